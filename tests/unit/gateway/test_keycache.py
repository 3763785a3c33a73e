from services.gateway.logic.apikeys import Principal
from services.gateway.logic.keycache import KeyCache

CRM = Principal("k1", "crm", frozenset({"contacts:read"}))


class Keys:
    """The database's keys, counting look-ups."""

    def __init__(self):
        self.valid = {"plx_secret": CRM}
        self.asked = 0

    def look_up(self, secret):
        self.asked += 1
        return self.valid.get(secret)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_valid_key_is_looked_up_once_per_ttl():
    keys, clock = Keys(), Clock()
    cache = KeyCache(keys.look_up, ttl=0.5, clock=clock)
    assert [cache.principal("plx_secret") for _ in range(100)] == [CRM] * 100
    assert keys.asked == 1
    clock.now += 0.6
    assert cache.principal("plx_secret") == CRM
    assert keys.asked == 2


def test_a_revoked_key_stops_working_once_its_ttl_passed():
    keys, clock = Keys(), Clock()
    cache = KeyCache(keys.look_up, ttl=0.5, clock=clock)
    assert cache.principal("plx_secret") == CRM
    del keys.valid["plx_secret"]  # revoked in the database
    clock.now += 0.4
    assert cache.principal("plx_secret") == CRM  # within the TTL: still trusted
    clock.now += 0.11
    assert cache.principal("plx_secret") is None
    assert cache.principal("plx_secret") is None
    assert keys.asked == 3  # a refused key is asked again each time, never remembered


def test_a_key_made_a_moment_after_a_refusal_works_at_once():
    keys, clock = Keys(), Clock()
    cache = KeyCache(keys.look_up, ttl=0.5, clock=clock)
    assert cache.principal("plx_new") is None
    keys.valid["plx_new"] = CRM
    assert cache.principal("plx_new") == CRM
    assert "plx_new" not in repr(cache.entries)  # kept by its hash only
