"""Downloads made while they are sent: rows come in as an iterable of dicts and leave
as chunks of CSV or NDJSON bytes, one chunk per batch of rows."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
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


def chunks(format: str, columns: tuple[str, ...], batches: Iterable[list[dict]]) \
        -> Iterator[bytes]:
    return csv_chunks(columns, batches) if format == "csv" else ndjson_chunks(batches)


def attachment(filename: str, format: str) -> dict:
    # The name carries a path parameter: only safe characters reach the header, so a
    # quote, a newline or a control character cannot break or inject headers.
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "download"
    return {"Content-Type": FORMATS[format],
            "Content-Disposition": f'attachment; filename="{safe}.{format}"'}
