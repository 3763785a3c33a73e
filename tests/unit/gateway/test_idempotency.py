from datetime import timedelta

import pytest
from sqlalchemy import update

from plexus.db import transaction
from plexus.errors import Conflict, Invalid
from plexus.timeutil import utcnow
from services.gateway.logic import idempotency
from services.gateway.models import IdempotencyRecord

DAY = timedelta(hours=24)


def test_first_request_runs_then_its_answer_is_replayed(sessions):
    print_ = idempotency.fingerprint("POST", "/v1/contacts?", b'{"email": "a@b.co"}')
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k-1", print_, DAY) is None
    answer = idempotency.StoredAnswer(201, {"Location": "/v1/contacts/x"}, '{"id": "x"}')
    with transaction(sessions) as session:
        idempotency.store(session, "key1", "k-1", answer)
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k-1", print_, DAY) == answer


def test_same_key_with_another_body_is_422_and_in_flight_is_409(sessions):
    first = idempotency.fingerprint("POST", "/v1/contacts?", b'{"email": "a@b.co"}')
    other = idempotency.fingerprint("POST", "/v1/contacts?", b'{"email": "z@b.co"}')
    with transaction(sessions) as session:
        idempotency.claim(session, "key1", "k-1", first, DAY)
    with transaction(sessions) as session, pytest.raises(Conflict):
        idempotency.claim(session, "key1", "k-1", first, DAY)
    with transaction(sessions) as session, pytest.raises(Invalid) as invalid:
        idempotency.claim(session, "key1", "k-1", other, DAY)
    assert "Idempotency-Key" in invalid.value.errors


def test_keys_are_per_api_key_and_expire(sessions):
    print_ = idempotency.fingerprint("POST", "/v1/x?", b"{}")
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k", print_, DAY) is None
        assert idempotency.claim(session, "key2", "k", print_, DAY) is None
    with transaction(sessions) as session:  # an expired record no longer binds the key
        assert idempotency.claim(session, "key1", "k", print_, timedelta(0)) is None


def test_released_key_runs_again(sessions):
    print_ = idempotency.fingerprint("POST", "/v1/x?", b"{}")
    with transaction(sessions) as session:
        idempotency.claim(session, "key1", "k", print_, DAY)
    with transaction(sessions) as session:
        idempotency.release(session, "key1", "k")
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k", print_, DAY) is None


def test_erasing_a_resource_forgets_every_answer_that_mentions_it(sessions):
    print_ = idempotency.fingerprint("POST", "/v1/x?", b"{}")
    with transaction(sessions) as session:
        idempotency.claim(session, "key1", "create", print_, DAY, path="/v1/contacts")
        idempotency.store(
            session,
            "key1",
            "create",
            idempotency.StoredAnswer(201, {}, '{"id": "c1", "email": "a@b.co"}'),
        )
        idempotency.claim(session, "key2", "note", print_, DAY, path="/v1/contacts/c1/notes")
        idempotency.claim(session, "key1", "other", print_, DAY, path="/v1/contacts")
        idempotency.store(
            session, "key1", "other", idempotency.StoredAnswer(201, {}, '{"id": "c2"}')
        )
    with transaction(sessions) as session:
        assert idempotency.forget_mentions(session, "c1") == 2
    with transaction(sessions) as session:  # the other contact's answer is still replayed
        assert idempotency.claim(session, "key1", "other", print_, DAY).body == '{"id": "c2"}'


def _age_claims(sessions, minutes: float) -> None:
    """As if every claim had been made `minutes` ago."""
    with transaction(sessions) as session:
        session.execute(
            update(IdempotencyRecord).values(created_at=utcnow() - timedelta(minutes=minutes))
        )


def test_a_claim_its_gateway_never_answered_is_taken_over_after_a_few_minutes(sessions):
    """The gateway died between claiming the key and storing its answer: a retry is
    refused (409) while the first request might still run, then runs, and its answer is
    the one replayed, instead of the key being blocked for the rest of the day."""
    print_ = idempotency.fingerprint("POST", "/v1/contacts?", b'{"email": "a@b.co"}')
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k-1", print_, DAY) is None
    _age_claims(sessions, 4)
    with transaction(sessions) as session, pytest.raises(Conflict):
        idempotency.claim(session, "key1", "k-1", print_, DAY)
    _age_claims(sessions, 6)
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k-1", print_, DAY) is None
    with transaction(sessions) as session, pytest.raises(Conflict):  # the retry runs now
        idempotency.claim(session, "key1", "k-1", print_, DAY)
    answer = idempotency.StoredAnswer(201, {}, '{"id": "x"}')
    with transaction(sessions) as session:
        idempotency.store(session, "key1", "k-1", answer)
    _age_claims(sessions, 60)  # an answered key is never taken over
    with transaction(sessions) as session:
        assert idempotency.claim(session, "key1", "k-1", print_, DAY) == answer


def test_abandoned_claims_wait_as_long_as_configured(sessions):
    print_ = idempotency.fingerprint("POST", "/v1/x?", b"{}")
    with transaction(sessions) as session:
        idempotency.claim(session, "key1", "k", print_, DAY)
    _age_claims(sessions, 6)
    with transaction(sessions) as session, pytest.raises(Conflict):
        idempotency.claim(session, "key1", "k", print_, DAY, abandoned_after=timedelta(minutes=10))
    with transaction(sessions) as session, pytest.raises(Invalid):  # another body: still no
        idempotency.claim(session, "key1", "k", idempotency.fingerprint("POST", "/v1/y?", b""), DAY)
