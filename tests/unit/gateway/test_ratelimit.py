import eventlet

from services.gateway.logic.admission import rate_headers
from services.gateway.logic.ratelimit import Limit, Taken, TokenBuckets

LIMIT = Limit(per_second=2, burst=3)


def waits(buckets, key, bucket, limit, now, times=1):
    return [buckets.take(key, bucket, limit, now).wait for _ in range(times)]


def test_a_burst_passes_then_the_bucket_refills_at_its_rate():
    buckets, now = TokenBuckets(), 1000.0
    assert waits(buckets, "k1", "default", LIMIT, now, 3) == [0, 0, 0]
    assert waits(buckets, "k1", "default", LIMIT, now) == [0.5]  # one token in 1/2 s
    assert waits(buckets, "k1", "default", LIMIT, now + 0.5) == [0]
    assert waits(buckets, "k1", "default", LIMIT, now + 0.5)[0] > 0
    # A long pause refills to the burst, no more.
    assert waits(buckets, "k1", "default", LIMIT, now + 100, 4)[-1] > 0


def test_a_refused_request_spends_nothing():
    buckets = TokenBuckets()
    waits(buckets, "k1", "default", LIMIT, 0.0, 3)
    assert waits(buckets, "k1", "default", LIMIT, 0.0, 2) == [0.5, 0.5]  # not a token deeper
    assert waits(buckets, "k1", "default", LIMIT, 0.5) == [0]


def test_buckets_are_per_key_and_per_class():
    buckets = TokenBuckets()
    waits(buckets, "k1", "send", LIMIT, 0.0, 3)
    assert waits(buckets, "k1", "send", LIMIT, 0.0)[0] > 0
    assert waits(buckets, "k1", "default", LIMIT, 0.0) == [0]
    assert waits(buckets, "k2", "send", LIMIT, 0.0) == [0]


def test_concurrent_requests_of_one_key_get_exactly_the_burst():
    """100 requests of one key at once, on green threads as the gateway serves them:
    exactly `burst` pass."""
    buckets, limit = TokenBuckets(), Limit(per_second=0.001, burst=25)

    def spend(_) -> float:
        eventlet.sleep(0)  # all start before any spends
        return buckets.take("k1", "default", limit, 5000.0).wait

    spent = list(eventlet.GreenPool(100).imap(spend, range(100)))
    assert spent.count(0.0) == 25 and all(w > 0 for w in spent if w)


def test_replicas_each_hold_their_share_and_together_the_limit():
    limit = Limit(per_second=10, burst=25)
    replicas = [TokenBuckets() for _ in range(2)]
    share = limit.share(2)
    assert share == Limit(per_second=5, burst=12.5)
    passed = sum(
        w == 0 for buckets in replicas for w in waits(buckets, "k1", "default", share, 0.0, 50)
    )
    assert passed == 24  # 12 each: a half token is no request; never more than the burst
    assert Limit(per_second=1, burst=2).share(5) == Limit(per_second=0.2, burst=1.0)


def test_limits_come_from_config_and_zero_turns_them_off():
    assert Limit.from_config({"per_second": 0, "burst": 10}) is None
    assert Limit.from_config(None) is None
    assert Limit.from_config({"per_second": "5", "burst": "20"}) == Limit(5.0, 20.0)
    assert Limit.from_config({"per_second": 5}) == Limit(5.0, 5.0)


def test_answers_say_the_limit_and_what_is_left_of_it():
    limit = Limit(per_second=200, burst=400)
    assert rate_headers(limit, Taken(0, 399.0), 1) == {
        "X-RateLimit-Limit": "400",
        "X-RateLimit-Remaining": "399",
    }
    # Two replicas, each with its half: this one has 100.5 tokens left of its 200.
    assert rate_headers(limit, Taken(0, 100.5), 2)["X-RateLimit-Remaining"] == "201"
    assert rate_headers(limit, Taken(0.5, 0.2), 1)["X-RateLimit-Remaining"] == "0"
