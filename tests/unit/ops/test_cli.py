"""The `plexus` command, run as a process the way people run it."""

import json
import os
import socket
import subprocess
import sys

import pytest


@pytest.fixture
def plexus(tmp_path):
    """Run `plexus ARGS` with its data under tmp_path; (exit code, stdout, stderr)."""

    def run(*args, **env):
        environment = {
            **os.environ,
            "PLEXUS_DATA_DIR": str(tmp_path / "var"),
            "PLEXUS_DATABASE_URL": "",
            "PLEXUS_LOG_FORMAT": "json",
            **env,
        }
        done = subprocess.run(
            [sys.executable, "-m", "ops.cli", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stdout, done.stderr

    return run


def _plain_lines(stderr: str) -> list[str]:
    """stderr without the JSON log lines."""
    return [line for line in stderr.splitlines() if not line.startswith("{")]


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["migrate"],
        ["apikey"],
        ["apikey", "create"],
        ["apikey", "list"],
        ["apikey", "revoke"],
        ["import"],
        ["segments"],
        ["segments", "rebuild"],
        ["deadletters", "list"],
        ["deadletters", "replay"],
        ["deadletters", "replay-queue"],
        ["webpush", "public-key"],
        ["export"],
        ["export", "activity"],
    ],
)
def test_every_command_explains_itself(plexus, command):
    code, out, _ = plexus(*command, "--help")
    assert code == 0
    assert out.startswith("Usage: plexus")


def test_run_without_a_broker_says_so_in_one_line(plexus, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, out, err = plexus("run", PLEXUS_AMQP_URI=f"pyamqp://guest:s3cret@127.0.0.1:{port}/")
    assert code == 1
    assert out == ""
    assert err == (
        f"plexus: no RabbitMQ answers at 127.0.0.1:{port} (PLEXUS_AMQP_URI). Start one: "
        "'rabbitmq-server -detached' or 'docker compose up -d rabbitmq'\n"
    )
    assert not (tmp_path / "var").exists()  # stopped before migrating anything


@pytest.mark.parametrize(
    "scale", ["activity", "activity=0", "activity=x", "nobody=2", "gateway=2", "segments=17"]
)
def test_run_refuses_a_bad_scale_naming_it(plexus, tmp_path, scale):
    code, out, err = plexus("run", "--scale", scale)
    assert code == 2
    assert f"Invalid value for '--scale': {scale!r}: give SERVICE=N, N from 1 to 16" in err
    assert not (tmp_path / "var").exists()  # nothing started or migrated


def test_usage_errors_exit_2(plexus):
    code, _, err = plexus("migrate", "no-such-service")
    assert code == 2
    assert "'no-such-service' is not one of" in err
    assert plexus("--config", "/nonexistent.yaml", "migrate")[0] == 2


def test_a_bad_log_level_is_one_line(plexus):
    code, _, err = plexus("migrate", "gateway", PLEXUS_LOG_LEVEL="loud")
    assert code == 1
    assert err.startswith("plexus: the LOGGING section of the config does not work")
    assert err.count("\n") == 1


def test_apikey_create_list_revoke(plexus):
    code, out, err = plexus(
        "apikey", "create", "--name", "ci", "--scope", "contacts:read", "--scope", "contacts:write"
    )
    assert code == 0, err
    secret = out.strip()
    assert out == secret + "\n"  # alone on stdout: KEY=$(plexus apikey create ...)
    assert "shown only once" in err

    code, out, _ = plexus("apikey", "list", "--json")
    assert code == 0
    [key] = json.loads(out)
    assert key["name"] == "ci"
    assert key["scopes"] == ["contacts:read", "contacts:write"]
    assert key["revoked_at"] is None
    assert secret not in out

    code, out, _ = plexus("apikey", "list")
    assert code == 0
    assert out.splitlines()[0].split()[:2] == ["id", "name"]

    code, out, _ = plexus("apikey", "revoke", "ci")
    assert code == 0
    assert out.startswith("Revoked API key ci")
    assert json.loads(plexus("apikey", "list", "--json")[1])[0]["revoked_at"]


def test_apikey_failures_are_one_line(plexus):
    """The wording is the gateway's; the shape (one `plexus:` line, exit 1) is the CLI's."""
    code, _, err = plexus("apikey", "revoke", "nobody")
    [line] = _plain_lines(err)
    assert code == 1 and line.startswith("plexus: ") and "nobody" in line
    code, _, err = plexus("apikey", "create", "--name", "x", "--scope", "everything")
    [line] = _plain_lines(err)
    assert code == 1 and line.startswith("plexus: ") and "everything" in line
