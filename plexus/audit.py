"""Who deleted what. A deletion leaves no row to carry its actor (definitions keep
`created_by` / `updated_by`, a contact's changes go into its events and ledger), so it
leaves one line on the `plexus.audit` logger, with the actor and the key of what went."""

from __future__ import annotations

import logging

log = logging.getLogger("plexus.audit")


def record_deletion(kind: str, key: str, actor: str) -> None:
    log.info(
        "%s %s deleted by %s",
        kind,
        key,
        actor,
        extra={"audit": "deleted", "kind": kind, "key": key, "actor": actor},
    )
