import pytest

from plexus.db import transaction
from plexus.errors import Conflict, Invalid, NotFound
from services.gateway.logic import apikeys
from services.gateway.models import ApiKey


def test_created_key_authenticates_with_its_scopes_and_is_stored_hashed(sessions):
    with transaction(sessions) as session:
        described, secret = apikeys.create_key(session, "crm", ["contacts:read"])
    assert secret.startswith("plx_") and len(secret) > 40
    assert described["scopes"] == ["contacts:read"]
    with transaction(sessions) as session:
        principal = apikeys.authenticate(session, secret)
        stored = session.get(ApiKey, described["id"])
        assert secret not in (stored.secret_hash, stored.prefix)
    assert principal.name == "crm"
    assert principal.allows("contacts:read")
    assert not principal.allows("contacts:write")


def test_admin_implies_every_scope(sessions):
    with transaction(sessions) as session:
        _, secret = apikeys.create_key(session, "ops", ["admin"])
        principal = apikeys.authenticate(session, secret)
    assert all(principal.allows(scope) for scope in apikeys.SCOPES)


def test_wrong_secret_with_a_valid_prefix_is_refused(sessions):
    with transaction(sessions) as session:
        _, secret = apikeys.create_key(session, "crm", ["contacts:read"])
        forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        assert apikeys.authenticate(session, forged) is None
        assert apikeys.authenticate(session, "plx_short") is None
        assert apikeys.authenticate(session, "not-a-key-at-all-but-long-enough") is None


def test_revoked_key_stops_working_at_once(sessions):
    with transaction(sessions) as session:
        _, secret = apikeys.create_key(session, "old", ["admin"])
    with transaction(sessions) as session:
        assert apikeys.revoke_key(session, "old")["revoked_at"] is not None
    with transaction(sessions) as session:
        assert apikeys.authenticate(session, secret) is None
        with pytest.raises(NotFound):
            apikeys.revoke_key(session, "never-made")


def test_unknown_scope_and_duplicate_name_are_refused(sessions):
    with transaction(sessions) as session:
        with pytest.raises(Invalid) as invalid:
            apikeys.create_key(session, "x", ["contacts:read", "root"])
        assert "scopes" in invalid.value.errors
        apikeys.create_key(session, "dup", ["admin"])
        with pytest.raises(Conflict):
            apikeys.create_key(session, "dup", ["admin"])


def test_bootstrap_key_is_ensured_and_rotated(sessions):
    first, second = "plx_" + "a" * 40, "plx_" + "b" * 40
    with transaction(sessions) as session:
        apikeys.ensure_bootstrap_key(session, first)
    with transaction(sessions) as session:
        apikeys.ensure_bootstrap_key(session, first)  # a restart changes nothing
        assert apikeys.authenticate(session, first).name == "bootstrap"
    with transaction(sessions) as session:
        apikeys.ensure_bootstrap_key(session, second)
    with transaction(sessions) as session:
        assert apikeys.authenticate(session, first) is None
        assert apikeys.authenticate(session, second).allows("admin")
        assert len(apikeys.list_keys(session)) == 1


def test_a_revoked_bootstrap_key_stays_revoked_across_restarts(sessions, caplog):
    secret = "plx_" + "a" * 40
    with transaction(sessions) as session:
        apikeys.ensure_bootstrap_key(session, secret)
    with transaction(sessions) as session:
        apikeys.revoke_key(session, "bootstrap")
    for restart_secret in (secret, "plx_" + "b" * 40):  # the same variable, or a new one
        with transaction(sessions) as session:
            apikeys.ensure_bootstrap_key(session, restart_secret)
        with transaction(sessions) as session:
            assert apikeys.authenticate(session, restart_secret) is None
            (key,) = apikeys.list_keys(session)
            assert key["name"] == "bootstrap" and key["revoked_at"] is not None
    assert "PLEXUS_BOOTSTRAP_KEY is set but the bootstrap key was revoked" in caplog.text
