"""The baseline of the gateway look-up benchmark: a minimal WSGI app that reads the same
contact row straight from the same PostgreSQL table, on the same server stack as the
gateway (eventlet's WSGI server, green psycopg2 connections from a pool), without auth,
rate limits, validation or RPC.

    python -m bench.direct_wsgi --port 8001 --database postgresql://.../db

GET /contacts/<id> and GET /contacts?email=<address> answer the row as JSON, or 404.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402  (after the monkey patching, as in every nameko process)
import json  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402

import eventlet.wsgi  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

BY_ID = text("SELECT * FROM contacts.contacts WHERE id = :value")
BY_EMAIL = text("SELECT * FROM contacts.contacts WHERE email = :value")


def make_app(database_url: str):
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"),
                           pool_size=20, max_overflow=0)

    def app(environ, start_response):
        path, query = environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith("/contacts/"):
            statement, value = BY_ID, path.removeprefix("/contacts/")
        elif path == "/contacts" and "email" in query:
            statement, value = BY_EMAIL, query["email"][0]
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b"{}"]
        with engine.connect() as connection:
            row = connection.execute(statement, {"value": value}).mappings().first()
        if row is None:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b"{}"]
        body = json.dumps(dict(row), default=str).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True)
    options = parser.parse_args()
    listener = eventlet.listen(("127.0.0.1", options.port))
    eventlet.wsgi.server(listener, make_app(options.database), log_output=False)


if __name__ == "__main__":
    main()
