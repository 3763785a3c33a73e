"""Server-made identifiers: ULIDs, so that sorting by id is sorting by creation time,
which gives cursor pagination "newest first" on the primary key alone."""

from ulid import ULID


def new_id() -> str:
    return str(ULID()).lower()
