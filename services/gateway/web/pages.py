"""Small HTML pages the gateway answers people with (a link they followed from an
email): a title and a paragraph or two, no script, nothing from elsewhere."""

from __future__ import annotations

NO_STORE = {"Cache-Control": "no-store"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8", **NO_STORE}


def page(title: str, body: str) -> str:
    """`title` and `body` are HTML already: escape what they carry."""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{title}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:3rem auto;max-width:30rem}"
        f"</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
