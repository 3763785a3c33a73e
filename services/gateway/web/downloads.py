"""Downloads made while they are sent: rows come in as an iterable of dicts and leave
as chunks of CSV or NDJSON bytes, one chunk per batch of rows."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "json": "application/json",
}


def _cell(value):
    # Nested values (an item's details) are one JSON text in their cell.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def csv_chunks(columns: tuple[str, ...], batches: Iterable[list[dict]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for rows in batches:
        writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def ndjson_chunks(batches: Iterable[list[dict]]) -> Iterator[bytes]:
    for rows in batches:
        yield "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def chunks(format: str, columns: tuple[str, ...], batches: Iterable[list[dict]]) -> Iterator[bytes]:
    return csv_chunks(columns, batches) if format == "csv" else ndjson_chunks(batches)


def pages(first: dict, fetch_next: Callable[[str], dict]) -> Iterator[list[dict]]:
    """Each page's items of a keyset-paged RPC, asking for the next page only when the
    last one has been sent, so neither side holds the whole list."""
    page = first
    while True:
        yield page["data"]
        if not page.get("next_cursor"):
            return
        page = fetch_next(page["next_cursor"])


def json_document(head: dict, streamed: dict[str, Iterable[list[dict]]]) -> Iterator[bytes]:
    """One JSON object: `head`'s keys, then each streamed key as an array written page by
    page."""
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-1].encode()
    for key, batches in streamed.items():
        yield f", {json.dumps(key)}: [".encode()
        first = True
        for rows in batches:
            if rows:
                text = ", ".join(json.dumps(row, ensure_ascii=False) for row in rows)
                yield ((", " if not first else "") + text).encode()
                first = False
        yield b"]"
    yield b"}"


def attachment(filename: str, format: str) -> dict:
    # The name carries a path parameter: only safe characters reach the header, so a
    # quote, a newline or a control character cannot break or inject headers.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "download"
    return {
        "Content-Type": FORMATS[format],
        "Content-Disposition": f'attachment; filename="{safe}.{format}"',
    }
