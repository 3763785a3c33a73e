"""Calling another service: one long-lived AMQP connection per process, with a deadline.

nameko's own clients cost about 15x a raw AMQP round trip here (bench/results.md): the
standalone client opens a connection, declares and confirms for every call, and
ServiceRpc waits forever (nameko PR #360) while the API promises a 503 rather than a hang.
Its reply listener can also kill a container that is asked to call before it has
connected ("Lost replies for correlation ids"). This client speaks nameko's RPC wire
format (the nameko-rpc exchange, routing key `service.method`, a JSON body of args and
kwargs, the answer published to the exchange keyed by `reply_to`), so nameko's @rpc
serves it unchanged, and:
- connects once, on the first call, and again after the broker went away; a call made
  meanwhile waits for the reply queue to be consumed, so no reply is ever lost;
- publishes transient, unconfirmed, mandatory requests: an unroutable one comes back at
  once (the service is not running), and each expires in the broker with its deadline, so
  a request the caller gave up on (503) is not carried out later;
- waits for the reply at most the deadline, then answers Unavailable (503).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import socket
import sys
import threading
import uuid
from dataclasses import dataclass, field

import amqp
import kombu.serialization
import nameko
from amqp.exceptions import AMQPError
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.exceptions import OperationalError
from nameko.constants import AMQP_SSL_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import (
    IncorrectSignature,
    RemoteError,
    UnserializableValueError,
    deserialize,
    serialize,
)
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from plexus import tracing
from plexus.config import broker_uri
from plexus.consumer import leave_to_the_reader
from plexus.errors import EXPECTED_ERRORS, PlexusError, Unavailable

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"  # nameko's default; the services serve on it
CONNECT_TIMEOUT = 2.0  # a broker that does not accept us in 2 s is away: 503
DRAIN_TICK = 1.0  # how often the reply reader looks up to send heartbeats
BROKEN = (OperationalError, AMQPError, OSError)


class ReplySender:
    """Every RPC reply of a process goes out on one connection kept open for them.

    nameko's Responder, per reply, builds a Publisher, takes a connection and producer
    from kombu's pool with its `ensure` retry wrapper, and serializes the result twice
    (once to check it can). Here the result is serialized once and published on a
    channel made once. A reply goes to one waiting caller's exclusive queue, which a
    broker restart loses anyway: it is transient and unconfirmed (a confirm would cost
    a round trip a call).

    The connection only writes: it has no heartbeats (nothing would read them), and the
    broker sends it nothing unless it closes it, so a readable socket before a publish
    means the broker went away (or closed it): it is made again then."""

    def __init__(self, uri: str, exchange: str, ssl=None, login_method=None):
        self.uri, self.exchange = uri, exchange
        self.ssl, self.login_method = ssl, login_method
        self.lock = threading.Lock()
        self.connection: Connection | None = None
        self.channel = None

    def send(self, message, result, exc_info) -> tuple[object, object]:
        """Reply to `message` (a request) with `result` or the error in `exc_info`;
        returns them as nameko's Responder does (an unserializable result becomes an
        UnserializableValueError)."""
        error = serialize(exc_info[1]) if exc_info is not None else None
        content_type = message.properties.get("content_type") or "application/json"
        serializer = kombu.serialization.registry.type_to_name[content_type]
        try:
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": result, "error": error}, serializer
            )
        except Exception:
            exc_info = sys.exc_info()
            error = serialize(UnserializableValueError(result))
            result = None
            content_type, encoding, body = kombu.serialization.dumps(
                {"result": None, "error": error}, serializer
            )
        reply = amqp.Message(
            body,
            content_type=content_type,
            content_encoding=encoding,
            correlation_id=message.properties.get("correlation_id"),
            delivery_mode=1,
        )
        with self.lock:
            self._channel().basic_publish(
                reply, exchange=self.exchange, routing_key=message.properties["reply_to"]
            )
        return result, exc_info

    def close(self) -> None:
        with self.lock:
            self._drop(politely=True)

    def forget(self) -> None:
        """After a failed publish: the next reply connects again."""
        with self.lock:
            self._drop()

    def _channel(self):
        if self.connection is not None and _readable(self.connection):
            log.warning("RPC reply connection closed by the broker; connecting again")
            self._drop()
        if self.connection is None:
            connection = Connection(
                self.uri,
                heartbeat=0,
                ssl=self.ssl,
                login_method=self.login_method,
                connect_timeout=CONNECT_TIMEOUT,
            )
            connection.connect()
            self.connection, self.channel = connection, connection.default_channel
        return self.channel

    def _drop(self, politely: bool = False) -> None:
        """Forget the connection: closed with the broker (at stop), or only the socket
        (the broker is away or has closed it already)."""
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            with contextlib.suppress(*BROKEN):
                connection.release() if politely else connection.collect()


def _readable(connection: Connection) -> bool:
    """Whether the broker has sent anything (a close, or the end of the stream). A peek
    on the socket itself, which never waits: eventlet's green select would take a trip
    through its hub on every reply."""
    sock = connection.connection.sock if connection.connection else None
    if sock is None:
        return True
    sock = getattr(sock, "fd", sock)  # under eventlet: the OS socket inside the green one
    try:
        sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False  # nothing to read: the connection is as we left it
    except ValueError:  # TLS sockets refuse to peek: trust it, a failed write is caught
        return False
    except OSError:
        return True
    return True  # a frame, or b"" for the end of the stream


class ReplyingConsumer(RpcConsumer):
    """nameko's RPC consumer (one per service), replying through one ReplySender."""

    def setup(self) -> None:
        super().setup()
        self.replies = ReplySender(
            self.amqp_uri,
            get_rpc_exchange().name,
            ssl=nameko.config.get(AMQP_SSL_CONFIG_KEY),
            login_method=nameko.config.get(LOGIN_METHOD_CONFIG_KEY),
        )

    def stop(self) -> None:
        super().stop()
        self.replies.close()

    def kill(self) -> None:
        super().kill()
        self.replies.close()

    def handle_result(self, message, result, exc_info):
        try:
            result, exc_info = self.replies.send(message, result, exc_info)
            self.consumer.ack_message(message)
        except BROKEN as error:
            # The broker went away while this worker ran (nameko would kill the whole
            # container here). The caller's connection went with it: it has its 503, and
            # its request, transient, is gone from the broker too. The consumer reconnects;
            # the next reply connects its sender again.
            log.warning(
                "reply to %s not sent, the broker connection is lost: %s",
                message.delivery_info.get("routing_key"),
                error,
            )
            self.replies.forget()
            leave_to_the_reader(message)
        return result, exc_info


class Answer(Rpc):
    rpc_consumer = ReplyingConsumer()

    def check_signature(self, args, kwargs) -> None:
        """As nameko's (a call whose arguments do not fit is IncorrectSignature), with the
        method's signature read once: nameko runs inspect.getcallargs on every call."""
        signature = self.__dict__.get("_signature")
        if signature is None:
            method = getattr(self.container.service_cls, self.method_name)
            signature = self._signature = inspect.signature(method)
        try:
            signature.bind(None, *args, **kwargs)
        except TypeError as error:
            raise IncorrectSignature(str(error)) from None


# The @rpc of every service: errors meant for the caller (plexus.errors) are re-raised
# there as the same class, not logged here as failures.
answer = Answer.decorator(expected_exceptions=EXPECTED_ERRORS)


class RemoteFailure(PlexusError):
    """The called service failed on a bug of its own (logged there with its traceback)."""

    status = 500
    title = "Internal error"


@dataclass
class _Pending:
    """One call waiting for its reply."""

    service: str
    answered: threading.Event = field(default_factory=threading.Event)
    reply: dict | None = None
    error: PlexusError | None = None

    def resolve(self, reply: dict | None = None, error: PlexusError | None = None) -> None:
        self.reply, self.error = reply, error
        self.answered.set()


class _Link:
    """One connection: a publishing channel and a consumed, exclusive reply queue. Replies
    (and returned, unroutable requests) are read by one thread; writers take `lock`."""

    def __init__(self, uri: str, exchange: Exchange, heartbeat: float, on_reply, on_return):
        self.connection = Connection(
            uri, heartbeat=heartbeat or None, connect_timeout=CONNECT_TIMEOUT
        )
        self.connection.connect()
        self.lock = threading.Lock()
        self.reply_to = f"rpc.reply-plexus-{uuid.uuid4().hex}"
        # Nothing on the publishing path may wait for an answer from the broker: only
        # the reader thread reads this connection (eventlet allows one reader a socket).
        self.producer = Producer(
            self.connection.channel(), exchange=exchange, auto_declare=False, on_return=on_return
        )
        queue = Queue(
            self.reply_to,
            exchange=exchange,
            routing_key=self.reply_to,
            exclusive=True,
            auto_delete=True,
        )
        self.consumer = Consumer(
            self.connection.channel(),
            queues=[queue],
            no_ack=True,
            callbacks=[on_reply],
            accept=["json"],
        )
        self.consumer.consume()  # declares the exchange, the queue and its binding first
        self.alive = True

    def publish(self, body: dict, routing_key: str, correlation_id: str, ttl: float) -> None:
        with self.lock:
            self.producer.publish(
                body,
                routing_key=routing_key,
                serializer="json",
                mandatory=True,
                reply_to=self.reply_to,
                correlation_id=correlation_id,
                delivery_mode=1,
                expiration=ttl,
                retry=False,
                headers=tracing.context_headers(),
            )

    def read_replies(self, on_broken) -> None:
        """The reader: replies until the connection breaks or is closed."""
        while self.alive:
            try:
                self.connection.drain_events(timeout=DRAIN_TICK)
            except TimeoutError:
                try:
                    with self.lock:
                        self.connection.heartbeat_check()
                except BROKEN as error:
                    return on_broken(self, error)
            except BROKEN as error:
                return on_broken(self, error)
        self._release()

    def close(self) -> None:
        """Asks the reader to close the connection (closing waits for the broker's
        answer, which only the reader may read) at its next tick."""
        self.alive = False

    def _release(self) -> None:
        with contextlib.suppress(*BROKEN):
            self.connection.release()


class RpcClient:
    """Calls from many threads (green or not) over one shared link, made on demand."""

    def __init__(self, uri: str, exchange: str = RPC_EXCHANGE, heartbeat: float = 60):
        self.uri = uri
        self.exchange = Exchange(exchange, type="topic", durable=True, auto_delete=False)
        self.heartbeat = heartbeat
        self.pending: dict[str, _Pending] = {}
        self.link: _Link | None = None
        self.connecting = threading.Lock()

    def call(self, service: str, method: str, args: tuple, kwargs: dict, timeout: float) -> object:
        correlation_id = uuid.uuid4().hex
        pending = self.pending[correlation_id] = _Pending(service)
        try:
            try:
                self._link().publish(
                    {"args": args, "kwargs": kwargs},
                    f"{service}.{method}",
                    correlation_id,
                    ttl=timeout,
                )
            except BROKEN as error:
                log.warning("broker unreachable calling %s.%s: %s", service, method, error)
                raise Unavailable("the message broker is unreachable") from None
            if not pending.answered.wait(timeout):
                raise Unavailable(f"the {service} service did not answer within {timeout:g} s")
        finally:
            self.pending.pop(correlation_id, None)
        if pending.error is not None:
            raise pending.error
        return _result(service, method, pending.reply or {})

    def check(self) -> None:
        """Raises Unavailable unless this client has (or can make) its broker connection."""
        try:
            self._link()
        except BROKEN as error:
            raise Unavailable(f"the message broker is unreachable: {error}") from None

    def close(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            link.close()

    def _link(self) -> _Link:
        link = self.link
        if link is not None and link.alive:
            return link
        with self.connecting:  # one connects; the others wait for it and share it
            if self.link is None or not self.link.alive:
                link = _Link(
                    self.uri, self.exchange, self.heartbeat, self._on_reply, self._on_return
                )
                threading.Thread(
                    target=link.read_replies,
                    args=(self._on_broken,),
                    name="rpc-replies",
                    daemon=True,
                ).start()
                self.link = link
            return self.link

    def _on_reply(self, body: dict, message) -> None:
        pending = self.pending.get(message.properties.get("correlation_id"))
        if pending is not None:  # else the caller gave up already (its 503 is sent)
            pending.resolve(reply=body)

    def _on_return(self, _exception, _exchange, _routing_key, message) -> None:
        pending = self.pending.get(message.properties.get("correlation_id"))
        if pending is not None:
            pending.resolve(error=Unavailable(f"the {pending.service} service is not running"))

    def _on_broken(self, link: _Link, error: Exception) -> None:
        log.warning("RPC connection to the broker lost: %s", error)
        link.alive = False
        for pending in list(self.pending.values()):
            pending.resolve(error=Unavailable("the message broker connection was lost"))
        link._release()


def _result(service: str, method: str, reply: dict) -> object:
    error = reply.get("error")
    if error is None:
        return reply.get("result")
    raised = deserialize(error)
    if isinstance(raised, RemoteError):
        # A bug on the other side: logged there with its traceback; the caller learns
        # that it failed, not the internals.
        log.error("%s.%s failed: %s", service, method, raised.exc_type)
        raise RemoteFailure(f"the {service} service failed; the error is logged")
    raise raised


class RpcCaller:
    """`call(service, method, *args, **kwargs)` with the caller's deadline."""

    def __init__(self, client: RpcClient, timeout: float):
        self.client = client
        self.timeout = timeout

    def __call__(self, service: str, method: str, *args, timeout: float | None = None, **kwargs):
        return self.client.call(service, method, args, kwargs, timeout or self.timeout)


class Caller(DependencyProvider):
    """A service's way to call others: `self.rpc(service, method, ...)`. One client per
    service process; the deadline is the config's RPC_TIMEOUT, or `max_timeout` when a
    service asks for a detail inside a call that has its own deadline."""

    def __init__(self, max_timeout: float | None = None):
        self.max_timeout = max_timeout

    client: RpcClient  # made in setup(), once the config is known

    def setup(self) -> None:
        config = nameko.config
        self.client = RpcClient(
            broker_uri(config),
            exchange=config.get("rpc_exchange") or RPC_EXCHANGE,
            heartbeat=float(config.get("HEARTBEAT") or 60),
        )

    def stop(self) -> None:
        self.client.close()

    def kill(self) -> None:
        self.client.close()

    def timeout(self) -> float:
        timeout = float(nameko.config.get("RPC_TIMEOUT") or 10)
        return min(timeout, self.max_timeout) if self.max_timeout else timeout

    def get_dependency(self, _worker_ctx) -> RpcCaller:
        return RpcCaller(self.client, self.timeout())
