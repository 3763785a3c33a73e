"""The contacts service's sections of config.yaml: FORMS (the key signing confirmation
links, and how long a link works) and CONTACTS (the suppression secret, the key of the
hashes an erased contact's suppressed addresses are kept as: logic/suppression.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from plexus.config import kept_secret
from plexus.secretcheck import strong_secret
from plexus.settings import number, section
from services.contacts.logic.addresses import SUPPRESSION_KEY

SECRET_FILE = "forms-secret"
SUPPRESSION_SECRET = "PLEXUS_SUPPRESSION_SECRET"


@dataclass(frozen=True)
class FormSettings:
    secret: str
    confirmation_hours: float = 48.0


def load_form_settings(config: dict) -> FormSettings:
    """PLEXUS_FORMS_SECRET, else one made once and kept in DATA_DIR/forms-secret."""
    forms = section(config, "FORMS")
    secret = str(forms.get("secret") or "") or kept_secret(
        config, SECRET_FILE, lambda: secrets.token_urlsafe(32)
    )
    return FormSettings(secret, number(forms.get("confirmation_hours"), 48.0))


def suppression_secret(config: dict) -> str:
    """PLEXUS_SUPPRESSION_SECRET, else one made once and kept in DATA_DIR; a placeholder
    or a short one stops the service at start (plexus.secretcheck). Changing it makes
    every suppression record so far unrecognisable: keep it as long as the data."""
    configured = str(section(config, "CONTACTS").get("suppression_secret") or "").strip()
    if configured:
        return strong_secret(SUPPRESSION_SECRET, configured)
    return kept_secret(config, "suppression-secret", lambda: secrets.token_urlsafe(32))


def session_info(config: dict) -> dict:
    """What every session of the service carries (Database's session_info)."""
    return {SUPPRESSION_KEY: suppression_secret(config).encode()}
