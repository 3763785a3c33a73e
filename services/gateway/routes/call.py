"""What a route handler is given: the parsed request, the caller, and the RPC client."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from plexus.rpc import RpcCaller
from services.gateway.logic.admission import Admission
from services.gateway.logic.apikeys import Principal


@dataclass
class Call:
    params: dict  # path parameters
    args: MultiDict  # query string
    body: dict | None  # the parsed JSON object
    principal: Principal | None
    rpc: RpcCaller
    # The process's limits, for a handler that spends one itself (the subscription
    # form's one confirmation per address).
    admission: Admission | None = None
    # The Gateway (services.gateway.app): its own database and broker, for /ready.
    gateway: object = None
    # The request as sent, for routes that check a signature over it (webhooks).
    raw_body: bytes = b""  # read only when the route says raw_body=True
    headers: object = None  # werkzeug Headers
    url: str = ""

    @property
    def actor(self) -> str:
        return self.principal.name if self.principal else "anonymous"
