"""The subscription form's RPCs in real nameko containers on the real broker: the
contacts service's form_subscribe asks a messaging service for the confirmation
(queue_confirmation, with the contact, the signed token and its expiry), form_confirm
subscribes, and a bad or expired link crosses the wire as NotFound / Gone."""

import time

import nameko
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcClient

from plexus.errors import Gone, Invalid, NotFound
from plexus.migrations import migrate_service
from services.contacts.entrypoints import ContactsService
from services.contacts.logic.form_tokens import make_token

SECRET = "interface-forms-secret"
ASKED: list[tuple] = []


class FakeMessaging:
    name = "messaging"

    @rpc
    def queue_confirmation(self, contact_id, token, expires_at, actor):
        ASKED.append((contact_id, token, expires_at, actor))
        return {"id": "01message00000000000000000", "status": "queued"}


@pytest.fixture
def contacts(service_config, container_factory):
    ASKED.clear()
    with nameko.config.patch({"FORMS": {"secret": SECRET, "confirmation_hours": 1}}):
        migrate_service(service_config, "contacts")
        container_factory(FakeMessaging).start()
        container_factory(ContactsService).start()
        with ClusterRpcClient(timeout=10) as client:
            yield client.contacts


def test_subscribe_asks_for_a_confirmation_and_confirm_subscribes(contacts):
    assert contacts.form_subscribe({"email": "ann@example.com", "first_name": "Ann"}) == {
        "status": "accepted"
    }
    [(contact_id, token, expires_at, actor)] = ASKED
    pending = contacts.get_contact(contact_id)
    assert (pending["email"], pending["created_via"], actor) == ("ann@example.com", "form", "form")
    assert expires_at.endswith("Z")
    confirmed = contacts.form_confirm(token)
    assert confirmed == {"status": "subscribed", "email": "ann@example.com", "categories": []}
    subscribed = contacts.get_contact(contact_id)["subscriptions"]["email"]
    assert (subscribed["status"], subscribed["reason"]) == ("subscribed", "double opt-in")
    # Subscribed now: a second form asks for nothing.
    contacts.form_subscribe({"email": "ann@example.com"})
    assert len(ASKED) == 1


def test_send_false_takes_the_form_but_asks_for_no_email(contacts):
    contacts.form_subscribe({"email": "quiet@example.com"}, send=False)
    assert ASKED == []
    assert contacts.find_contacts(email="quiet@example.com")["data"][0]["created_via"] == "form"


def test_bad_forms_and_links_cross_the_wire_as_plexus_errors(contacts):
    with pytest.raises(Invalid) as refused:
        contacts.form_subscribe({"email": "not an address"})
    assert "email" in refused.value.errors
    with pytest.raises(NotFound):
        contacts.form_confirm("made.up")
    expired = make_token(SECRET, {"email": "late@example.com"}, time.time() - 1)
    with pytest.raises(Gone):
        contacts.form_confirm(expired)
