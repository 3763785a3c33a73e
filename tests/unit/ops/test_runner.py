"""ops.runner: the broker check and the supervisor of `plexus run`, with tiny child
processes standing in for the services."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from ops import runner

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def said():
    return []


@pytest.fixture
def supervisors():
    """Supervisors made by a test are stopped after it, whatever happened."""
    made = []
    yield made
    for supervisor in made:
        supervisor.stop()


def _supervisor(supervisors, said, commands, **kwargs):
    supervisor = runner.Supervisor(commands, say=said.append, **kwargs)
    supervisors.append(supervisor)
    return supervisor


def _wait_for(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_check_broker_names_the_closed_port_and_hides_the_password():
    port = _closed_port()
    problem = runner.check_broker(f"pyamqp://guest:s3cret@127.0.0.1:{port}/", timeout=3)
    assert problem == (
        f"no RabbitMQ answers at 127.0.0.1:{port} (PLEXUS_AMQP_URI). Start one: "
        "'rabbitmq-server -detached' or 'docker compose up -d rabbitmq'"
    )


def test_check_broker_gives_up_on_a_silent_server_after_the_timeout():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        started = time.monotonic()
        problem = runner.check_broker(
            f"pyamqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/", timeout=0.5
        )
    assert problem.startswith("no RabbitMQ answers at 127.0.0.1:")
    assert time.monotonic() - started < 3


def test_check_broker_accepts_the_local_rabbitmq_and_reports_a_bad_login():
    uri = os.environ.get("PLEXUS_AMQP_URI", "pyamqp://guest:guest@127.0.0.1:5672/")
    assert runner.check_broker(uri) is None
    problem = runner.check_broker("pyamqp://guest:not-the-password@127.0.0.1:5672/")
    assert "refused user 'guest'" in problem
    assert "not-the-password" not in problem


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        (":8000", "http://127.0.0.1:8000"),
        ("plexus.internal:80", "http://plexus.internal:80"),
    ],
)
def test_gateway_url(address, url):
    assert runner.gateway_url({"WEB_SERVER_ADDRESS": address}) == url


def test_child_command_and_environment():
    assert runner.nameko_command("/app/config.yaml", "services.x.entrypoints:X") == [
        sys.executable,
        "-m",
        "nameko",
        "run",
        "--config",
        "/app/config.yaml",
        "services.x.entrypoints:X",
    ]
    env = runner.child_environment("contacts", "/app/config.yaml", base={"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["PLEXUS_SERVICE"] == "contacts"
    assert env["PLEXUS_CONFIG"] == "/app/config.yaml"


def test_each_service_connects_as_its_own_broker_user_when_one_is_given():
    base = {
        "PLEXUS_AMQP_URI": "pyamqp://admin:a@mq/",
        "PLEXUS_SENDER_EMAIL_AMQP_URI": "pyamqp://plexus-sender-email:s@mq/",
    }
    sender = runner.child_environment("sender_email", "/c.yaml", base=base)
    assert sender["PLEXUS_AMQP_URI"] == "pyamqp://plexus-sender-email:s@mq/"
    others = runner.child_environment("contacts", "/c.yaml", base=base)
    assert others["PLEXUS_AMQP_URI"] == "pyamqp://admin:a@mq/"  # none of its own: shared


def test_scaled_services_start_as_named_replicas_without_a_second_metrics_port():
    assert runner.replicas(["contacts", "activity", "segments"], {"activity": 3}) == {
        "contacts": "contacts",
        "activity": "activity",
        "activity.2": "activity",
        "activity.3": "activity",
        "segments": "segments",
    }
    first = runner.child_environment("activity", "/c.yaml", base={})
    replica = runner.child_environment("activity", "/c.yaml", base={}, replica=True)
    assert "PLEXUS_ACTIVITY_METRICS_PORT" not in first
    assert replica["PLEXUS_ACTIVITY_METRICS_PORT"] == "0"
    assert replica["PLEXUS_SERVICE"] == "activity"


def test_start_then_stop_terminates_every_child(supervisors, said):
    supervisor = _supervisor(supervisors, said, {"one": SLEEPER, "two": SLEEPER})
    supervisor.start()
    assert supervisor.exited() is None
    started = time.monotonic()
    codes = supervisor.stop()
    assert codes == {"one": -signal.SIGTERM, "two": -signal.SIGTERM}
    assert time.monotonic() - started < 5
    assert said == ["plexus: stopping two, one"]  # reverse order: the gateway goes first


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(supervisors, said, tmp_path):
    ready = tmp_path / "ready"
    stubborn = _python(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').close()\n"
        "time.sleep(60)\n"
    )
    supervisor = _supervisor(supervisors, said, {"stubborn": stubborn}, stop_timeout=1)
    supervisor.start()
    _wait_for(ready)
    started = time.monotonic()
    assert supervisor.stop() == {"stubborn": -signal.SIGKILL}
    assert 1 <= time.monotonic() - started < 5
    assert "plexus: stubborn did not stop within 1 s; killing it" in said


def test_wait_returns_the_child_that_ended(supervisors, said):
    supervisor = _supervisor(
        supervisors, said, {"steady": SLEEPER, "quitter": _python("import sys; sys.exit(3)")}
    )
    supervisor.start()
    assert supervisor.wait(interval=0.05) == ("quitter", 3)
    assert supervisor.stop()["steady"] == -signal.SIGTERM


def test_run_foreground_stops_the_rest_when_one_dies(supervisors, said):
    supervisor = _supervisor(
        supervisors, said, {"steady": SLEEPER, "crasher": _python("import os; os.abort()")}
    )
    assert runner.run_foreground(supervisor) == 1
    assert said[0] == "plexus: crasher exited unexpectedly (killed by SIGABRT); stopping the rest"
    assert supervisor.processes["steady"].returncode == -signal.SIGTERM


def test_run_foreground_stops_everything_on_sigterm(supervisors, said):
    supervisor = _supervisor(supervisors, said, {"one": SLEEPER, "two": SLEEPER})
    previous = signal.getsignal(signal.SIGTERM)

    def sigterm_ourselves():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    assert runner.run_foreground(supervisor, on_started=sigterm_ourselves) == 0
    assert {p.returncode for p in supervisor.processes.values()} == {-signal.SIGTERM}
    assert signal.getsignal(signal.SIGTERM) is previous


def test_children_do_not_get_the_terminals_ctrl_c(supervisors, said):
    """Each child leads its own process group, so Ctrl-C (SIGINT to the terminal's
    foreground group) reaches only the supervisor, which stops children once."""
    supervisor = _supervisor(supervisors, said, {"one": SLEEPER})
    supervisor.start()
    child = supervisor.processes["one"].pid
    assert os.getpgid(child) == child != os.getpgid(0)


def test_wait_until_healthy_gives_up_when_a_child_dies(supervisors, said):
    supervisor = _supervisor(supervisors, said, {"quitter": _python("pass")})
    supervisor.start()
    url = f"http://127.0.0.1:{_closed_port()}/health"
    started = time.monotonic()
    assert runner.wait_until_healthy(url, supervisor, timeout=10, interval=0.05) is False
    assert time.monotonic() - started < 5


def test_wait_until_healthy_sees_a_server_answer(supervisors, said, tmp_path):
    (tmp_path / "health").write_text("ok")
    port = _closed_port()
    server = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(tmp_path),
    ]
    supervisor = _supervisor(supervisors, said, {"web": server})
    supervisor.start()
    url = f"http://127.0.0.1:{port}/health"
    assert runner.wait_until_healthy(url, supervisor, timeout=20, interval=0.05) is True


def test_one_run_per_data_directory_and_the_lock_names_the_holder(tmp_path):
    # The holder is another process, as a second `plexus run` would see the first.
    ready = tmp_path / "locked"
    holder = subprocess.Popen(
        _python(
            "import pathlib, time\n"
            "from ops import runner\n"
            f"lock = runner.DataDirLock({str(tmp_path / 'var')!r}).acquire()\n"
            f"pathlib.Path({str(ready)!r}).touch()\n"
            "time.sleep(60)\n"
        )
    )
    try:
        _wait_for(ready)
        with pytest.raises(runner.AlreadyRunning) as refused:
            runner.DataDirLock(tmp_path / "var").acquire()
        assert str(refused.value) == (
            f"Plexus is already running on {tmp_path / 'var'} (plexus run, PID {holder.pid}): "
            "stop it first, or give this one its own PLEXUS_DATA_DIR"
        )
        runner.DataDirLock(tmp_path / "other").acquire().release()  # another directory: fine
    finally:
        holder.kill()
        holder.wait()
    # The kernel let go when the holder died (kill -9 too): nothing stale to clean up.
    with runner.DataDirLock(tmp_path / "var") as lock:
        assert lock.path.read_text() == f"{os.getpid()}\n"
    assert lock.path.read_text() == ""


def test_a_taken_gateway_port_is_refused_even_when_shared_with_reuseport():
    # eventlet.listen sets SO_REUSEPORT, so a second gateway would not fail by itself.
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(runner.AlreadyRunning) as refused:
            runner.check_port_free(f"127.0.0.1:{port}")
        assert str(refused.value) == (
            f"the gateway's address 127.0.0.1:{port} is taken (another program has it): "
            "stop that one, or set PLEXUS_GATEWAY_PORT"
        )
        with pytest.raises(runner.AlreadyRunning):
            runner.check_port_free(f"0.0.0.0:{port}")
    runner.check_port_free(f"127.0.0.1:{_closed_port()}")  # free: no complaint
