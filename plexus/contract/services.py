"""The services' names: what an RPC is addressed to (`self.rpc(CONTACTS, ...)`), the
nameko service name each entrypoint class declares, and the `<service>.events` exchange
its events go out on."""

CONTACTS = "contacts"
MESSAGING = "messaging"
ACTIVITY = "activity"
SEGMENTS = "segments"
CAMPAIGNS = "campaigns"
