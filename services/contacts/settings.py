"""The CONTACTS section of config.yaml: the suppression secret, the key of the hashes
an erased contact's suppressed addresses are kept as (logic/suppression.py)."""

from __future__ import annotations

import secrets

from plexus.kept_secrets import kept_secret
from services.contacts.logic.addresses import SUPPRESSION_KEY


def suppression_secret(config: dict) -> str:
    """PLEXUS_SUPPRESSION_SECRET, else one kept under DATA_DIR. Changing it makes every
    suppression record so far unrecognisable: keep it as long as the data."""
    configured = (config.get("CONTACTS") or {}).get("suppression_secret")
    if configured:
        return str(configured)
    return kept_secret(config, "suppression-secret", lambda: secrets.token_urlsafe(32))


def session_info(config: dict) -> dict:
    """What every session of the service carries (Database's session_info)."""
    return {SUPPRESSION_KEY: suppression_secret(config).encode()}
