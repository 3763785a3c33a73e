"""HTTP plumbing of the gateway: the route table, request parsing, problem answers."""
