"""Calling another service with a deadline. nameko's ServiceRpc waits forever
(nameko PR #360), and API.md promises a 503 rather than a hang. The gateway calls every
backing service through this, and services that ask one another (activity asks contacts
and messaging) do too."""

from __future__ import annotations

import logging

import eventlet
from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, UnknownService
from nameko.rpc import rpc

from plexus.errors import EXPECTED_ERRORS, PlexusError, Unavailable

log = logging.getLogger(__name__)

# The @rpc of every service: errors meant for the caller (plexus.errors) are re-raised
# there as the same class, not logged here as failures.
answer = rpc(expected_exceptions=EXPECTED_ERRORS)


class RemoteFailure(PlexusError):
    """The called service failed on a bug of its own (logged there with its traceback)."""

    status = 500
    title = "Internal error"


class RpcCaller:
    """`call(service, method, *args, **kwargs)` through a nameko ClusterRpc client."""

    def __init__(self, cluster_client, timeout: float):
        self.cluster = cluster_client
        self.timeout = timeout

    def __call__(self, service: str, method: str, *args, timeout: float | None = None,
                 **kwargs):
        deadline = timeout or self.timeout
        try:
            with eventlet.Timeout(deadline):
                return self.cluster[service][method].call_async(*args, **kwargs).result()
        except eventlet.Timeout:
            raise Unavailable(f"the {service} service did not answer within {deadline:g} s")\
                from None
        except UnknownService:
            raise Unavailable(f"the {service} service is not running") from None
        except (OperationalError, AMQPError, OSError) as error:
            log.warning("broker unreachable calling %s.%s: %s", service, method, error)
            raise Unavailable("the message broker is unreachable") from None
        except RemoteError as error:
            # A bug on the other side: logged there with its traceback; the caller
            # learns that it failed, not the internals.
            log.error("%s.%s failed: %s", service, method, error.exc_type)
            raise RemoteFailure(f"the {service} service failed; the error is logged") \
                from None
