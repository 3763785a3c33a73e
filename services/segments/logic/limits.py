"""A rule evaluated over every contact on request (a preview, a new or changed rule)
has a time limit: a rule too costly for it is refused with 422 naming `rule`, and the
worker and its database connection are free again, instead of a worker held (and, on
SQLite, the whole process) for as long as the query takes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.orm import Session

from plexus.errors import Invalid
from plexus.query_timeout import QueryTimedOut, query_timeout


@contextlib.contextmanager
def evaluation_limit(session: Session, seconds: float | None) -> Iterator[None]:
    try:
        with query_timeout(session, seconds):
            yield
    except QueryTimedOut:
        raise Invalid(
            f"evaluating the rule took longer than {seconds:g} s and was stopped",
            {
                "rule": [
                    f"too costly: evaluating it over every contact took longer than "
                    f"{seconds:g} s; make it narrower (fewer conditions or values)"
                ]
            },
        ) from None
