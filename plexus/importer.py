"""Importing contacts from a CSV file through the gateway, as any external system would:
rows become contacts by a column mapping, go in batches to POST /v1/contacts/batch
(upsert: user_id, else email, else phone), and every row refused, here or by the
server, is written with its reasons to a file of rejected rows."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from plexus.contract.contacts import ADDRESS_FIELDS, BATCH_LIMIT, ContactCreate

# Top-level fields a column can fill; dotted ones (address.city, variables.plan,
# categories.news) fill the nested objects.
FIELDS = tuple(name for name in ContactCreate().fields if name not in {"address", "variables",
                                                                       "categories"})
TRUE, FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}
RETRIED_STATUSES = {429, 502, 503, 504}


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


def column_mapping(header: list[str], overrides: dict[str, str],
                   skipped: set[str]) -> tuple[dict[str, str], list[str]]:
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
                path, raw, variable_types.get(rest))
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


class GatewayClient:
    """The few calls the importer makes, with retries on 429/503 (honouring Retry-After)."""

    def __init__(self, url: str, key: str, timeout: float = 60.0, attempts: int = 5):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout
        self.attempts = attempts

    def _request(self, method: str, path: str, **kwargs) -> dict:
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self.session.request(method, self.url + path, timeout=self.timeout,
                                              **kwargs)
            except requests.ConnectionError:
                if attempt == self.attempts:
                    raise ImportFailure(f"no gateway answers at {self.url}") from None
                time.sleep(min(2 ** attempt, 10))
                continue
            if answer.status_code in RETRIED_STATUSES and attempt < self.attempts:
                time.sleep(float(answer.headers.get("Retry-After") or min(2 ** attempt, 10)))
                continue
            if answer.status_code in (401, 403):
                raise ImportFailure(f"the gateway refused the key: {answer.json()['detail']}")
            if answer.status_code >= 400:
                raise ImportFailure(f"{method} {path} answered {answer.status_code}: "
                                    f"{answer.text[:300]}")
            return answer.json()
        raise ImportFailure(f"{method} {path} kept failing")

    def variable_types(self) -> dict[str, str]:
        types, cursor = {}, None
        while True:
            page = self._request("GET", "/v1/variables",
                                 params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            types.update({v["name"]: v["type"] for v in page["data"]})
            cursor = page.get("next_cursor")
            if not cursor:
                return types

    def upsert(self, contacts: list[dict]) -> list[dict]:
        return self._request("POST", "/v1/contacts/batch", json={"contacts": contacts})["results"]


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


def import_contacts(path: Path, client: GatewayClient, rejected_path: Path, *,
                    overrides: dict[str, str] | None = None, skipped: set[str] | None = None,
                    batch_size: int = BATCH_LIMIT,
                    on_progress: Callable[[int], None] = lambda rows: None) -> ImportReport:
    started = time.monotonic()
    header = header_of(path)
    mapping, ignored = column_mapping(header, overrides or {}, skipped or set())
    report = ImportReport(ignored_columns=ignored)
    types = client.variable_types() if any(p.startswith("variables.") for p in
                                            mapping.values()) else {}
    with open(rejected_path, "w", newline="", encoding="utf-8") as rejected_file:
        rejected = csv.DictWriter(rejected_file, fieldnames=["line", "errors", *header])
        rejected.writeheader()

        def reject(line: int, row: dict, reason: str) -> None:
            rejected.writerow({"line": line, "errors": reason, **row})
            report.rejected += 1

        batch: list[tuple[int, dict, dict]] = []

        def flush() -> None:
            results = client.upsert([contact for _, _, contact in batch])
            for (line, row, _), result in zip(batch, results, strict=True):
                if result["status"] == "error":
                    reject(line, row, _errors_text(result["errors"]))
                else:
                    setattr(report, result["status"], getattr(report, result["status"]) + 1)
            on_progress(len(batch))
            batch.clear()

        for line, row in _rows(path):
            report.rows += 1
            try:
                batch.append((line, row, row_to_contact(row, mapping, types)))
            except ValueError as error:
                reject(line, row, str(error))
                on_progress(1)
                continue
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    report.seconds = time.monotonic() - started
    return report
