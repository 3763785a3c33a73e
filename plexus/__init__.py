"""Plexus: what every service shares: configuration, storage, the outbox, metrics,
logging and the contract between services (plexus.contract)."""

import warnings

# eventlet warns on import that it is deprecated; nameko 3 has no other hub (nameko #785).
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
