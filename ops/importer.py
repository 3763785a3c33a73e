"""Importing contacts from a CSV file through the gateway, as any external system would:
rows become contacts by a column mapping, go in batches to POST /v1/contacts/batch
(upsert: user_id, else email, else phone), several batches in flight at once, and every
row refused, here or by the server, is written with its reasons to a file of rejected
rows, in the order of the file."""

from __future__ import annotations

import csv
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ops.gateway_client import GatewayClient
from plexus.contract.contacts import ADDRESS_FIELDS, BATCH_LIMIT, ContactCreate

# Top-level fields a column can fill; dotted ones (address.city, variables.plan,
# categories.news) fill the nested objects.
FIELDS = tuple(
    name for name in ContactCreate().fields if name not in {"address", "variables", "categories"}
)
TRUE, FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}
PARALLEL = 4  # batches in flight at once: the server works on one while the next travels


class ImportFailure(Exception):
    """The import cannot go on (bad mapping, unreachable gateway, refused key)."""


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    seconds: float = 0.0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def column_mapping(
    header: list[str], overrides: dict[str, str], skipped: set[str]
) -> tuple[dict[str, str], list[str]]:
    """column -> field path. A column named like a field maps to it; --map overrides."""
    mapping, ignored = {}, []
    for column in header:
        target = overrides.get(column, column.strip())
        if column in skipped:
            continue
        if _is_field(target):
            mapping[column] = target
        else:
            ignored.append(column)
    unknown = [c for c in overrides if c not in header]
    if unknown:
        raise ImportFailure(f"--map names columns the file lacks: {', '.join(unknown)}")
    bad = [f"{c}={t}" for c, t in overrides.items() if not _is_field(t)]
    if bad:
        raise ImportFailure(f"--map targets no contact field: {', '.join(bad)}")
    if not mapping:
        raise ImportFailure("no column maps to a contact field; use --map COLUMN=FIELD")
    return mapping, ignored


def _is_field(path: str) -> bool:
    head, _, rest = path.partition(".")
    if not rest:
        return head in FIELDS
    if head == "address":
        return rest in ADDRESS_FIELDS
    return head in {"variables", "categories"} and bool(rest)


def row_to_contact(row: dict, mapping: dict[str, str], variable_types: dict[str, str]) -> dict:
    """One CSV row as a contact body; empty cells are left out. Raises ValueError with
    `field: reason` for a value that cannot be what its field needs."""
    contact: dict = {}
    for column, path in mapping.items():
        raw = (row.get(column) or "").strip()
        if not raw:
            continue
        head, _, rest = path.partition(".")
        if not rest:
            contact[head] = _convert_field(head, raw)
        elif head == "address":
            contact.setdefault("address", {})[rest] = raw
        elif head == "categories":
            contact.setdefault("categories", {})[rest] = _boolean(path, raw)
        else:
            contact.setdefault("variables", {})[rest] = _convert_variable(
                path, raw, variable_types.get(rest)
            )
    return contact


def _convert_field(name: str, raw: str):
    try:
        if name == "gender":
            return int(raw)
        if name == "contact_score":
            return float(raw)
    except ValueError:
        raise ValueError(f"{name}: not a number: {raw!r}") from None
    return raw


def _boolean(path: str, raw: str) -> bool:
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValueError(f"{path}: not true/false: {raw!r}")


def _convert_variable(path: str, raw: str, kind: str | None):
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{path}: not a number: {raw!r}") from None
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        return _boolean(path, raw)
    return raw  # string, date (YYYY-MM-DD, checked by the server), or unknown (server says)


def variable_types(client: GatewayClient) -> dict[str, str]:
    types, cursor = {}, None
    while True:
        page = client.json(
            "GET", "/v1/variables", params={"limit": 200, **({"cursor": cursor} if cursor else {})}
        )
        types.update({v["name"]: v["type"] for v in page["data"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return types


def upsert(client: GatewayClient, contacts: list[dict]) -> list[dict]:
    results = client.json("POST", "/v1/contacts/batch", json={"contacts": contacts})["results"]
    if len(results) != len(contacts):
        raise ImportFailure(
            f"the gateway answered {len(results)} results for {len(contacts)} contacts"
        )
    return results


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def header_of(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ImportFailure(f"{path} has no header row")
    return header


def count_rows(path: Path) -> int:
    return sum(1 for _ in _rows(path))


def _errors_text(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


@dataclass
class Chunk:
    """Consecutive rows of the file: those that go in one batch, and those refused here
    (kept in place, so that rejects are written in file order)."""

    rows: list[tuple[int, dict, dict | str]] = field(default_factory=list)  # contact or reason
    keys: set[str] = field(default_factory=set)

    @property
    def contacts(self) -> list[dict]:
        return [item for _, _, item in self.rows if isinstance(item, dict)]


def _identity(contact: dict) -> set[str]:
    """What the server matches a contact by, loosely normalised: two rows of one contact
    must not be upserted by batches in flight at the same time (the later row must win)."""
    keys = set()
    if contact.get("user_id"):
        keys.add(f"user_id:{contact['user_id']}")
    if contact.get("email"):
        keys.add(f"email:{str(contact['email']).strip().lower()}")
    if contact.get("phone"):
        keys.add("phone:" + "".join(c for c in str(contact["phone"]) if c.isdigit()))
    return keys


def _chunks(
    path: Path,
    mapping: dict[str, str],
    types: dict[str, str],
    batch_size: int,
    report: ImportReport,
) -> Iterator[Chunk]:
    chunk = Chunk()
    for line, row in _rows(path):
        report.rows += 1
        try:
            contact = row_to_contact(row, mapping, types)
        except ValueError as error:
            chunk.rows.append((line, row, str(error)))
            continue
        chunk.rows.append((line, row, contact))
        chunk.keys |= _identity(contact)
        if len(chunk.contacts) >= batch_size:
            yield chunk
            chunk = Chunk()
    if chunk.rows:
        yield chunk


def import_contacts(
    path: Path,
    client: GatewayClient,
    rejected_path: Path,
    *,
    overrides: dict[str, str] | None = None,
    skipped: set[str] | None = None,
    batch_size: int = BATCH_LIMIT,
    parallel: int = PARALLEL,
    on_progress: Callable[[int], None] = lambda _rows: None,
) -> ImportReport:
    """Upsert the file's rows in batches, `parallel` of them in flight at once. Results
    are taken in file order, so the rejected file is in file order too; a batch holding
    a contact that one in flight also holds waits for it, so the later row wins."""
    started = time.monotonic()
    header = header_of(path)
    mapping, ignored = column_mapping(header, overrides or {}, skipped or set())
    report = ImportReport(ignored_columns=ignored)
    types = (
        variable_types(client) if any(p.startswith("variables.") for p in mapping.values()) else {}
    )
    with (
        open(rejected_path, "w", newline="", encoding="utf-8") as rejected_file,
        ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="import") as pool,
    ):
        rejected = csv.DictWriter(rejected_file, fieldnames=["line", "errors", *header])
        rejected.writeheader()

        def finish(chunk: Chunk, sent: Future | None) -> None:
            """Count a chunk's rows and write its rejects, in file order."""
            answers = iter(sent.result() if sent is not None else [])
            for line, row, item in chunk.rows:
                if isinstance(item, str):  # refused here
                    status, reason = "error", item
                else:
                    result = next(answers)
                    status = result["status"]
                    reason = _errors_text(result.get("errors") or {})
                if status == "error":
                    rejected.writerow({"line": line, "errors": reason, **row})
                    report.rejected += 1
                else:
                    setattr(report, status, getattr(report, status) + 1)
            on_progress(len(chunk.rows))

        in_flight: deque[tuple[Chunk, Future | None]] = deque()
        try:
            for chunk in _chunks(path, mapping, types, batch_size, report):
                # Room for one more, and no contact of this batch still on its way.
                while in_flight and (
                    len(in_flight) >= parallel
                    or any(chunk.keys & other.keys for other, _ in in_flight)
                ):
                    finish(*in_flight.popleft())
                contacts = chunk.contacts
                in_flight.append(
                    (chunk, pool.submit(upsert, client, contacts) if contacts else None)
                )
            while in_flight:
                finish(*in_flight.popleft())
        except BaseException:
            for _, sent in in_flight:
                if sent is not None:
                    sent.cancel()
            raise
    report.seconds = time.monotonic() - started
    return report
