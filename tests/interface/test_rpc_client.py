"""plexus.rpc.RpcClient against a real nameko service on the real broker: answers and
errors cross as nameko's own client gives them, many callers share one connection, an
absent service or a silent one is a prompt 503, and a lost connection is made again."""

import subprocess
import time
from urllib.parse import unquote

import eventlet
import pytest

from plexus.errors import Invalid, Unavailable
from plexus.rpc import Caller, RemoteFailure, RpcClient, answer
from tests.broker import close_connection


class Echo:
    name = "echo"

    @answer
    def echo(self, value, twice=False):
        return [value, value] if twice else value

    @answer
    def refuse(self):
        raise Invalid("no", {"field": "is wrong"})

    @answer
    def crash(self):
        raise ValueError("a bug")

    @answer
    def sleep(self, seconds):
        eventlet.sleep(seconds)
        return "awake"


class Asker:
    """A service that calls another through the Caller dependency."""

    name = "asker"
    rpc = Caller()

    @answer
    def ask(self, value):
        return self.rpc("echo", "echo", value, twice=True)


@pytest.fixture
def echo(service_config, container_factory):
    container = container_factory(Echo)
    container.start()
    return container


@pytest.fixture
def client(service_config):
    rpc = RpcClient(service_config["AMQP_URI"])
    yield rpc
    rpc.close()


def test_answers_and_errors_cross_the_wire(echo, client):
    assert client.call("echo", "echo", ("hi",), {"twice": True}, timeout=5) == ["hi", "hi"]
    assert client.call("echo", "echo", ({"nested": [1, 2]},), {}, timeout=5) == {"nested": [1, 2]}
    with pytest.raises(Invalid) as refused:
        client.call("echo", "refuse", (), {}, timeout=5)
    assert refused.value.errors == {"field": "is wrong"}
    with pytest.raises(RemoteFailure):  # a bug there: the caller is not told its insides
        client.call("echo", "crash", (), {}, timeout=5)


def test_concurrent_callers_share_one_connection_and_get_their_own_answers(echo, client):
    pool = eventlet.GreenPool(50)
    answers = list(
        pool.imap(lambda n: client.call("echo", "echo", (n,), {}, timeout=10), range(500))
    )
    assert answers == list(range(500))
    assert client.link is not None and client.link.alive


def test_a_service_calls_another_through_the_caller_dependency(
    echo, service_config, container_factory, client
):
    container_factory(Asker).start()
    assert client.call("asker", "ask", ("x",), {}, timeout=5) == ["x", "x"]


def test_an_absent_service_is_unavailable_at_once(service_config, client):
    started = time.monotonic()
    with pytest.raises(Unavailable, match="nobody service is not running"):
        client.call("nobody", "anything", (), {}, timeout=5)
    assert time.monotonic() - started < 1  # the broker returned it: no wait for the deadline


def test_a_silent_service_is_unavailable_after_the_deadline_and_its_request_expires(echo, client):
    started = time.monotonic()
    with pytest.raises(Unavailable, match="did not answer within 0.5 s"):
        client.call("echo", "sleep", (2,), {}, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 1.5
    # The late answer finds nobody waiting and is dropped; the next call is unaffected.
    assert client.call("echo", "echo", ("next",), {}, timeout=5) == "next"


def test_the_connection_is_made_again_after_the_broker_closes_it(echo, client, service_config):
    assert client.call("echo", "echo", (1,), {}, timeout=5) == 1
    first = client.link
    # What a broker restart or a network cut does to the caller: the broker drops it.
    subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "close_all_connections",
            "--vhost",
            unquote(service_config["AMQP_URI"].rsplit("/", 1)[1]),
            "test: dropped",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    deadline = time.monotonic() + 10
    while first.alive and time.monotonic() < deadline:
        eventlet.sleep(0.1)
    assert not first.alive
    # The container's own consumer reconnects by itself; the client on the next call.
    deadline = time.monotonic() + 20
    while True:
        try:
            assert client.call("echo", "echo", (2,), {}, timeout=2) == 2
            break
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            eventlet.sleep(0.2)
    assert client.link is not first


def _reply_sender(container):
    from plexus.rpc import ReplyingConsumer

    return next(
        extension.replies
        for extension in container.subextensions
        if isinstance(extension, ReplyingConsumer)
    )


def _socket_readable(connection) -> bool:
    import select

    return bool(select.select([connection.connection.sock], [], [], 0)[0])


def test_replies_go_out_on_one_kept_connection_made_again_when_the_broker_closes_it(echo, client):
    assert [client.call("echo", "echo", (n,), {}, timeout=5) for n in range(20)] == list(range(20))
    sender = _reply_sender(echo)
    kept = sender.connection
    assert kept is not None
    pool = eventlet.GreenPool(20)
    assert list(
        pool.imap(lambda n: client.call("echo", "echo", (n,), {}, timeout=10), range(200))
    ) == list(range(200))
    assert sender.connection is kept  # 220 replies, one connection

    # The broker closes that connection (a restart, a network cut, an operator): the next
    # reply notices before writing into the dead socket, and the caller gets its answer
    # at once rather than a 503 at its deadline.
    close_connection(kept.connection.sock)
    deadline = time.monotonic() + 10
    while not _socket_readable(kept) and time.monotonic() < deadline:
        eventlet.sleep(0.05)
    started = time.monotonic()
    assert client.call("echo", "echo", ("after",), {}, timeout=5) == "after"
    assert time.monotonic() - started < 1
    assert sender.connection is not kept


def test_a_call_whose_arguments_do_not_fit_is_refused_as_nameko_refuses_it(echo, client):
    from nameko.exceptions import IncorrectSignature

    for args, kwargs in (((), {}), ((1, True, 3), {}), ((1,), {"thrice": True})):
        with pytest.raises(IncorrectSignature):
            client.call("echo", "echo", args, kwargs, timeout=5)
    assert client.call("echo", "echo", ("still",), {"twice": False}, timeout=5) == "still"
