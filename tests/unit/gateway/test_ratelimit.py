from plexus.db import transaction
from services.gateway.logic.ratelimit import Limit, take

LIMIT = Limit(per_second=2, burst=3)


def test_a_burst_passes_then_the_bucket_refills_at_its_rate(sessions):
    now = 1000.0
    with transaction(sessions) as session:
        assert [take(session, "k1", "default", LIMIT, now) for _ in range(3)] == [0, 0, 0]
        assert take(session, "k1", "default", LIMIT, now) == 0.5  # one token in 1/2 s
    with transaction(sessions) as session:
        assert take(session, "k1", "default", LIMIT, now + 0.5) == 0
        assert take(session, "k1", "default", LIMIT, now + 0.5) > 0
    with transaction(sessions) as session:  # a long pause refills to the burst, no more
        assert [take(session, "k1", "default", LIMIT, now + 100) for _ in range(4)][-1] > 0


def test_buckets_are_per_key_and_per_class(sessions):
    with transaction(sessions) as session:
        for _ in range(3):
            take(session, "k1", "send", LIMIT, 0.0)
        assert take(session, "k1", "send", LIMIT, 0.0) > 0
        assert take(session, "k1", "default", LIMIT, 0.0) == 0
        assert take(session, "k2", "send", LIMIT, 0.0) == 0


def test_limits_come_from_config_and_zero_turns_them_off():
    assert Limit.from_config({"per_second": 0, "burst": 10}) is None
    assert Limit.from_config(None) is None
    assert Limit.from_config({"per_second": "5", "burst": "20"}) == Limit(5.0, 20.0)
    assert Limit.from_config({"per_second": 5}) == Limit(5.0, 5.0)
