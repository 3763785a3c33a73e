"""Server-made identifiers: ULIDs, so that sorting by id is sorting by creation time,
which gives cursor pagination "newest first" on the primary key alone.

Monotonic within a process: two ids made in the same millisecond still sort in the order
they were made (the random part is incremented), so events recorded one after the other
in one transaction keep their order wherever they are sorted by id."""

from ulid import LaxMonotonicPolicy, ULIDGenerator

_generator = ULIDGenerator(policy=LaxMonotonicPolicy())


def new_id() -> str:
    return str(_generator.generate()).lower()
