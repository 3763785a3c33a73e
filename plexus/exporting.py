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

FORMATS = ("ndjson", "csv")
# How a contact may be named on the command line besides its id: FIELD=VALUE.
LOOKUPS = ("user_id", "email", "phone")
CHUNK = 64 * 1024


class ExportFailure(Exception):
    """The export cannot be made (unknown contact, refused key, no gateway)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the gateway's HTTP status, when it answered


class Gateway:
    def __init__(self, url: str, key: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout

    def get(self, path: str, **kwargs) -> requests.Response:
        try:
            answer = self.session.get(self.url + path, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise ExportFailure(f"no gateway answers at {self.url}") from None
        if answer.status_code >= 400:
            raise ExportFailure(_problem(answer), answer.status_code)
        return answer


def _problem(answer: requests.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if answer.status_code in (401, 403):
        return f"the gateway refused the key: {detail or answer.status_code}"
    return f"the gateway answered {answer.status_code}: {detail or answer.text[:200]}"


def contact_id(gateway: Gateway, contact: str) -> str:
    """CONTACT is an id, or user_id=..., email=..., phone=... looked up first."""
    field, sep, value = contact.partition("=")
    if not sep:
        return contact
    if field not in LOOKUPS:
        raise ExportFailure(f"name a contact by its id or by {', '.join(LOOKUPS)}=VALUE, "
                            f"not {field}=")
    found = gateway.get("/v1/contacts", params={field: value, "limit": 1}).json()["data"]
    if not found:
        raise ExportFailure(f"no contact has {field} {value}")
    return found[0]["id"]


def feed(gateway: Gateway, contact: str, format: str) -> Iterator[bytes]:
    """The feed's bytes as the gateway streams them. The first request is made before
    the first chunk is asked for, so an unknown contact fails before anything is written."""
    path = f"/v1/contacts/{quote(contact_id(gateway, contact), safe='')}/activity/export"
    try:
        answer = gateway.get(path, params={"format": format}, stream=True)
    except ExportFailure as failure:
        if failure.status == 404:
            raise ExportFailure(f"no contact {contact}", 404) from None
        raise

    def chunks() -> Iterator[bytes]:
        with answer:
            try:
                yield from answer.iter_content(CHUNK)
            except requests.RequestException as error:
                raise ExportFailure(f"the download broke off: {type(error).__name__}") \
                    from None
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
