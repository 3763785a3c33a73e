"""The FORMS section of config.yaml as the contacts service uses it: the key signing
confirmation links, and how long a link works."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from plexus.config import kept_secret

SECRET_FILE = "forms-secret"


@dataclass(frozen=True)
class FormSettings:
    secret: str
    confirmation_hours: float = 48.0


def load_form_settings(config: dict) -> FormSettings:
    """PLEXUS_FORMS_SECRET, else one made once and kept in DATA_DIR/forms-secret."""
    forms = dict(config.get("FORMS") or {})
    secret = str(forms.get("secret") or "") or kept_secret(
        config, SECRET_FILE, lambda: secrets.token_urlsafe(32)
    )
    hours = forms.get("confirmation_hours")
    return FormSettings(secret, float(hours) if hours not in (None, "") else 48.0)
