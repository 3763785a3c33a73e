"""The HTTP front: API keys, problem+json, idempotency, and the public routes, each
forwarded by RPC (with a deadline) to the service that owns the resource."""
