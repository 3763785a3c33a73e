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
