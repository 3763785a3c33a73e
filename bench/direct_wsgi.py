"""The baseline of the gateway benchmark: a minimal WSGI app that reads the same contact
row straight from the same table (PostgreSQL, or the contacts service's SQLite file), and
stores an event with one INSERT, on the same server stack as the gateway (eventlet's WSGI
server, pooled connections), without auth, rate limits, validation or RPC.

    python -m bench.direct_wsgi --port 8001 --database postgresql://.../db
    python -m bench.direct_wsgi --port 8001 --database sqlite:///var/contacts.db \
        --events-database sqlite:///var/direct-events.db

GET /contacts/<id> and GET /contacts?email=<address> answer the row as JSON, or 404.
POST /events inserts the body as one row of `direct_events` and answers 202 with its id.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402  (after the monkey patching, as in every nameko process)
import json  # noqa: E402
import uuid  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402

import eventlet.wsgi  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

EVENTS_TABLE = "CREATE TABLE IF NOT EXISTS {table} (id VARCHAR(32) PRIMARY KEY, body TEXT NOT NULL)"


def _engine(url: str):
    if url.startswith("sqlite"):
        # As the services open it (plexus.db): WAL, synchronous=NORMAL, or every insert
        # here would wait for a disk flush the services' inserts do not.
        from plexus.db import make_engine

        return make_engine(url)
    return create_engine(
        url.replace("postgresql://", "postgresql+psycopg2://"), pool_size=20, max_overflow=0
    )


def make_app(database_url: str, events_url: str | None = None):
    engine = _engine(database_url)
    events = _engine(events_url) if events_url else engine
    # PostgreSQL: the contacts service's schema; SQLite: its own file, no schema.
    table = "contacts" if database_url.startswith("sqlite") else "contacts.contacts"
    by_id = text(f"SELECT * FROM {table} WHERE id = :value")
    by_email = text(f"SELECT * FROM {table} WHERE email = :value")
    events_table = "direct_events"
    with events.begin() as connection:
        connection.execute(text(EVENTS_TABLE.format(table=events_table)))
    insert = text(f"INSERT INTO {events_table} (id, body) VALUES (:id, :body)")

    def answer(start_response, status: str, body: bytes):
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def app(environ, start_response):
        path, query = environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))
        if path == "/events" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode()
            json.loads(body)  # what any API does with a body, at the least
            event_id = uuid.uuid4().hex
            with events.begin() as connection:
                connection.execute(insert, {"id": event_id, "body": body})
            return answer(start_response, "202 Accepted", json.dumps({"id": event_id}).encode())
        if path.startswith("/contacts/"):
            statement, value = by_id, path.removeprefix("/contacts/")
        elif path == "/contacts" and "email" in query:
            statement, value = by_email, query["email"][0]
        else:
            return answer(start_response, "404 Not Found", b"{}")
        with engine.connect() as connection:
            row = connection.execute(statement, {"value": value}).mappings().first()
        if row is None:
            return answer(start_response, "404 Not Found", b"{}")
        return answer(start_response, "200 OK", json.dumps(dict(row), default=str).encode())

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument(
        "--events-database", default=None, help="where POST /events writes (default: --database)"
    )
    options = parser.parse_args()
    listener = eventlet.listen(("127.0.0.1", options.port))
    eventlet.wsgi.server(
        listener, make_app(options.database, options.events_database), log_output=False
    )


if __name__ == "__main__":
    main()
