"""What a route handler is given: the parsed request, the caller, and the RPC client."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from plexus.rpc import RpcCaller
from services.gateway.logic.apikeys import Principal


@dataclass
class Call:
    params: dict            # path parameters
    args: MultiDict         # query string
    body: dict | None       # the parsed JSON object
    principal: Principal | None
    rpc: RpcCaller
    services: object = None  # the Gateway (app.py): its own database, for /ready
    # The request as sent, for routes that check a signature over it (webhooks).
    raw_body: bytes = b""   # read only when the route says raw_body=True
    headers: object = None  # werkzeug Headers
    url: str = ""

    @property
    def actor(self) -> str:
        return self.principal.name if self.principal else "anonymous"
