"""The services that make up the suite, in start order, with the nameko class of each.
`plexus run`, `plexus migrate`, the gateway's /ready and the tests read this one list."""

SERVICES: dict[str, str] = {
    "contacts": "services.contacts.entrypoints:ContactsService",
    "gateway": "services.gateway.entrypoints:GatewayService",
}

# Services the gateway calls by RPC (all but itself); /ready pings each.
BACKENDS = tuple(name for name in SERVICES if name != "gateway")
