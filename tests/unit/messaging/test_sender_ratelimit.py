"""The per-provider rate limit, on a fake clock."""

from services.messaging.senders.ratelimit import RateLimiter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_unlimited_never_waits():
    clock = Clock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert sum(limiter.acquire() for _ in range(1000)) == 0


def test_steady_rate_after_a_burst_of_one_second():
    clock = Clock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    # 10 at once (the burst), then one every 0.1 s: 50 sends end after about 4 s.
    assert 3.9 <= clock.now - 100.0 <= 4.1


def test_idle_time_earns_no_more_than_the_burst():
    clock = Clock()
    limiter = RateLimiter(5, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 3600
    waits = [limiter.acquire() for _ in range(10)]
    assert waits[:5] == [0.0] * 5 and all(w > 0 for w in waits[5:])
