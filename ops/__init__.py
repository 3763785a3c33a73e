"""The console: the `plexus` command (ops.cli), the supervisor of `plexus run`
(ops.runner), import and export through the gateway (ops.importer, ops.exporting, over
ops.gateway_client). The only code that may import the services; no service imports it."""
