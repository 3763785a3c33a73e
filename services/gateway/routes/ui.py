"""The web page for people at the business: `/` is its HTML, `/ui/<name>` its scripts and
styles, all shipped in services/gateway/ui. No key is needed for the files themselves:
the page asks for an API key and sends it on every /v1 call it makes from the browser.

Only files that are in that folder are served (the name is looked up in a fixed
listing, never joined into a path), under a Content-Security-Policy that allows scripts
and styles from this origin alone, so contact data the page shows can never run."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from plexus.contract import vocab
from services.gateway.routes.call import Call
from services.gateway.web.problems import not_found
from services.gateway.web.routing import Answer, Route

FOLDER = Path(__file__).resolve().parents[1] / "ui"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
# The vocabularies the page shows (channels, activity types by channel...), served from
# plexus.contract.vocab itself so the page never holds a copy that could drift.
VOCABULARY = "vocabulary.json"


def _vocabulary() -> bytes:
    return json.dumps(
        {
            "message_channels": vocab.MESSAGE_CHANNELS,
            "open_channels": vocab.OPEN_CHANNELS,
            "activity_channels": vocab.ACTIVITY_CHANNELS,
            "origins": vocab.ORIGINS,
            "activity_types": vocab.ACTIVITY_TYPES,
            "contact_statuses": vocab.CONTACT_STATUSES,
            "subscription_statuses": vocab.SUBSCRIPTION_STATUSES,
            "blacklists": vocab.BLACKLISTS,
        }
    ).encode()


# Avatars are links to images anywhere (http or https); everything else comes from here.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' https: http: data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The page itself is checked on every load (so a new release is picked up at once); its
# assets may be kept for an hour and are revalidated by their ETag.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=3600"


@functools.cache
def _files() -> dict[str, tuple[bytes, str]]:
    """name -> (content, ETag) of every servable file, read once per process."""
    contents = {
        path.name: path.read_bytes()
        for path in sorted(FOLDER.iterdir())
        if path.is_file() and path.suffix in TYPES
    }
    contents[VOCABULARY] = _vocabulary()
    return {
        name: (content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"')
        for name, content in contents.items()
    }


def _serve(c: Call, name: str, cache: str) -> Answer:
    found = _files().get(name)
    if found is None:
        raise not_found(f"/ui/{name}")
    content, etag = found
    headers = {
        **SECURITY,
        "Cache-Control": cache,
        "ETag": etag,
        "Content-Type": TYPES[Path(name).suffix],
    }
    sent = (c.headers or {}).get("If-None-Match", "")
    if etag in [tag.strip() for tag in sent.split(",")]:
        return Answer(304, b"", headers)
    return Answer(200, content, headers)


def page(c: Call):
    return _serve(c, "index.html", PAGE_CACHE)


# The web push service worker is checked on every load too: a browser runs the copy it
# has until then, and a fix to what it reports should reach every subscriber at once.
SERVICE_WORKER = "sw.js"


def asset(c: Call):
    name = c.params["name"]
    return _serve(c, name, PAGE_CACHE if name == SERVICE_WORKER else ASSET_CACHE)


UI_ROUTES = (
    Route("GET", "/", page, "The web page (sign in with an API key)", tag="ui", api=False),
    Route("GET", "/ui/<name>", asset, "The web page's scripts and styles", tag="ui", api=False),
)
