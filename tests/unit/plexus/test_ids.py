"""plexus.ids.new_id: ULIDs as any ULID reader reads them, sorted by time of making."""

import time

from ulid import ULID

from plexus.ids import new_id


def test_an_id_is_a_ulid_of_now():
    before = time.time()
    made = new_id()
    after = time.time()
    assert len(made) == 26 and made == made.lower()
    assert before - 0.002 <= ULID.from_str(made.upper()).timestamp <= after + 0.002


def test_ids_made_one_after_the_other_sort_in_that_order():
    made = [new_id() for _ in range(20_000)]  # many in each millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_ids_of_one_millisecond_are_not_one_apart(monkeypatch):
    # A message id is in every tracking link: the next message's id must not be that + 1.
    frozen = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    made = [new_id() for _ in range(1000)]
    assert len({ULID.from_str(m.upper()).timestamp for m in made}) == 1
    numbers = [int(ULID.from_str(m.upper())) for m in made]
    steps = [b - a for a, b in zip(numbers, numbers[1:], strict=False)]
    assert min(steps) > 0  # still in the order made
    assert sum(step == 1 for step in steps) <= 1
    assert len(set(steps)) > 990
