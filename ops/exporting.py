"""`plexus export activity`: a contact's whole feed, fetched through the gateway's
GET /v1/contacts/{id}/activity/export (the route the web page's download uses) and
written as it arrives, so a long feed is never held in memory.

Into a file, the download goes to FILE.part first and is renamed when complete: a
download that broke off never looks like a whole one."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import requests

from ops.gateway_client import GatewayClient, GatewayError

FORMATS = ("ndjson", "csv")
# How a contact may be named on the command line besides its id: FIELD=VALUE.
LOOKUPS = ("user_id", "email", "phone")
CHUNK = 64 * 1024


class ExportFailure(Exception):
    """The export cannot be made: an unknown contact, or a download that broke off."""


def contact_id(gateway: GatewayClient, contact: str) -> str:
    """CONTACT is an id, or user_id=..., email=..., phone=... looked up first."""
    field, sep, value = contact.partition("=")
    if not sep:
        return contact
    if field not in LOOKUPS:
        raise ExportFailure(
            f"name a contact by its id or by {', '.join(LOOKUPS)}=VALUE, not {field}="
        )
    found = gateway.json("GET", "/v1/contacts", params={field: value, "limit": 1})["data"]
    if not found:
        raise ExportFailure(f"no contact has {field} {value}")
    return found[0]["id"]


def feed(gateway: GatewayClient, contact: str, format: str) -> Iterator[bytes]:
    """The feed's bytes as the gateway streams them. The first request is made before
    the first chunk is asked for, so an unknown contact fails before anything is written."""
    path = f"/v1/contacts/{quote(contact_id(gateway, contact), safe='')}/activity/export"
    try:
        answer = gateway.request("GET", path, params={"format": format}, stream=True)
    except GatewayError as failure:
        if failure.status == 404:
            raise ExportFailure(f"no contact {contact}") from None
        raise

    def chunks() -> Iterator[bytes]:
        with answer:
            try:
                yield from answer.iter_content(CHUNK)
            except requests.RequestException as error:
                raise ExportFailure(f"the download broke off: {type(error).__name__}") from None

    return chunks()


def write(chunks: Iterator[bytes], output: Path | None) -> int:
    """Writes to output (stdout when None); the number of bytes written."""
    if output is None:
        return _copy(chunks, sys.stdout.buffer)
    part = output.with_name(output.name + ".part")
    try:
        with open(part, "wb") as handle:
            written = _copy(chunks, handle)
        shutil.move(part, output)
    finally:
        if part.exists():
            os.unlink(part)
    return written


def _copy(chunks: Iterator[bytes], handle) -> int:
    written = 0
    for chunk in chunks:
        handle.write(chunk)
        written += len(chunk)
    handle.flush()
    return written
