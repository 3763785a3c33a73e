"""The contacts service on the bus: one RPC per operation (docs/development.md). Each
parses its plain arguments, runs one logic function in a transaction (a contact read:
on a plain connection, as it is one statement), and returns."""

from __future__ import annotations

import time

import nameko
from nameko.extensions import DependencyProvider

from plexus.contract.services import CONTACTS
from plexus.db import Database
from plexus.errors import Invalid
from plexus.metrics import ServiceMetrics
from plexus.outbox import OutboxRelay
from plexus.parsing import load
from plexus.push_services import PushServices
from plexus.rpc import Caller, answer
from plexus.tracing import Tracing
from services.contacts import settings
from services.contacts.logic import (
    app_push,
    batch,
    blacklists,
    catalog,
    channels,
    contacts,
    forms,
    message_variables,
    notes,
    reading,
    resolution,
    sending,
    subscriptions,
    variables,
)
from services.contacts.models import Outbox
from services.contacts.schemas import (
    BlacklistPageArgs,
    ContactVariablesArgs,
    FindContactsArgs,
    IdPageArgs,
    PageArgs,
)


class FormConfig(DependencyProvider):
    """The FORMS config (the key signing confirmation links), read once per container."""

    def setup(self) -> None:
        self.settings = settings.load_form_settings(nameko.config)

    def get_dependency(self, _worker_ctx):
        return self.settings


class ContactsService:
    name = CONTACTS

    # Each session carries the suppression secret (settings.py, logic/addresses.py).
    db = Database("contacts", session_info=settings.session_info)
    tracing = Tracing()  # the request's trace in logs, RPCs and events
    outbox = OutboxRelay(Outbox)
    metrics = ServiceMetrics()
    rpc = Caller()
    form_settings = FormConfig()

    @answer
    def ping(self):
        return "pong"

    @answer
    def form_subscribe(self, data, send=True):
        return forms.subscribe(self.db.transaction, self.rpc, self.form_settings, data, bool(send))

    @answer
    def form_confirm(self, token):
        return self.db.run(forms.confirm, token, self.form_settings, time.time())

    @answer
    def create_contact(self, data, actor):
        return self.db.run(contacts.create_contact, data, actor)

    @answer
    def batch_upsert(self, items, actor):
        return self.db.run(batch.batch_upsert, items, actor)

    @answer
    def find_contacts(self, limit=50, cursor=None, **lookup):
        # Every look-up and filter by keyword (user_id, email, phone, region, status,
        # subscribed, name): the schema refuses an unknown one, naming it.
        args = load(FindContactsArgs(), {**lookup, "limit": limit, "cursor": cursor})
        return self._read(contacts.find_contacts, **args)

    @answer
    def resolve_refs(self, refs, created_via=None, actor="system"):
        if not isinstance(refs, list) or not all(isinstance(ref, dict) for ref in refs):
            raise Invalid(
                "refs must be a list of contact references", {"refs": ["must be a list of objects"]}
            )
        return self.db.run(resolution.resolve_or_create, refs, created_via, actor)

    @answer
    def get_contact(self, contact_id):
        return self._read(contacts.get_contact, contact_id)

    def _read(self, logic, *args, **kwargs):
        """A read of one statement: no session, no transaction round trips."""
        with reading.connection_for_reads(self.db.session_factory.kw["bind"]) as connection:
            return logic(connection, *args, **kwargs)

    @answer
    def update_contact(self, contact_id, data, actor):
        return self.db.run(contacts.update_contact, contact_id, data, actor)

    @answer
    def delete_contact(self, contact_id, actor):
        return self.db.run(contacts.delete_contact, contact_id, actor)

    @answer
    def set_status(self, contact_id, status, actor):
        return self.db.run(contacts.set_status, contact_id, status, actor)

    @answer
    def add_to_blacklist(self, contact_id, list_name, data, actor):
        return self.db.run(blacklists.add_to_blacklist, contact_id, list_name, data, actor)

    @answer
    def remove_from_blacklist(self, contact_id, list_name, actor):
        return self.db.run(blacklists.remove_from_blacklist, contact_id, list_name, actor)

    @answer
    def list_blacklist(self, list_name, q=None, limit=50, cursor=None):
        args = load(BlacklistPageArgs(), {"q": q, "limit": limit, "cursor": cursor})
        return self.db.run(blacklists.list_entries, list_name, **args)

    @answer
    def put_blacklist_entry(self, list_name, value, data, actor):
        return self.db.run(blacklists.put_entry, list_name, value, data, actor)

    @answer
    def delete_blacklist_entry(self, list_name, value, actor):
        return self.db.run(blacklists.delete_entry, list_name, value, actor)

    @answer
    def blacklist_address(self, list_name, value, reason, source, actor):
        return self.db.run(blacklists.blacklist_address, list_name, value, reason, source, actor)

    @answer
    def set_subscription(self, contact_id, channel, data, actor):
        return self.db.run(subscriptions.set_subscription, contact_id, channel, data, actor)

    @answer
    def subscription_history(self, contact_id, limit=50, cursor=None):
        page = load(IdPageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(subscriptions.subscription_history, contact_id, **page)

    @answer
    def set_channel_address(self, contact_id, channel, data, actor):
        return self.db.run(channels.set_channel_address, contact_id, channel, data, actor)

    @answer
    def add_webpush_subscription(self, contact_id, data, actor):
        return self.db.run(
            channels.add_webpush_subscription,
            contact_id,
            data,
            actor,
            PushServices.from_config(nameko.config),
        )

    @answer
    def webpush_subscriptions(self, contact_id, device=None):
        return self.db.run(channels.webpush_subscriptions, contact_id, device)

    @answer
    def remove_webpush_subscription(self, contact_id, subscription_id, actor):
        return self.db.run(channels.remove_webpush_subscription, contact_id, subscription_id, actor)

    @answer
    def add_app_push_token(self, contact_id, data, actor):
        return self.db.run(app_push.add_app_push_token, contact_id, data, actor)

    @answer
    def app_push_tokens(self, contact_id):
        return self.db.run(app_push.app_push_tokens, contact_id)

    @answer
    def remove_app_push_token(self, contact_id, token_id, actor):
        return self.db.run(app_push.remove_app_push_token, contact_id, token_id, actor)

    @answer
    def list_notes(self, contact_id):
        return self.db.run(notes.list_notes, contact_id)

    @answer
    def add_note(self, contact_id, data, actor):
        return self.db.run(notes.add_note, contact_id, data, actor)

    @answer
    def delete_note(self, contact_id, note_id, actor):
        return self.db.run(notes.delete_note, contact_id, note_id, actor)

    @answer
    def contact_variables(self, contact_id, q=None):
        args = load(ContactVariablesArgs(), {"q": q})
        return self.db.run(message_variables.contact_variables, contact_id, **args)

    @answer
    def contacts_for_sending(self, ids):
        return self.db.run(sending.contacts_for_sending, ids)

    @answer
    def list_variables(self, limit=50, cursor=None):
        page = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(variables.list_variables, **page)

    @answer
    def create_variable(self, data, actor):
        return self.db.run(variables.create_variable, data, actor)

    @answer
    def get_variable(self, name):
        return self.db.run(variables.get_variable, name)

    @answer
    def update_variable(self, name, data, actor):
        return self.db.run(variables.update_variable, name, data, actor)

    @answer
    def list_sources(self, limit=50, cursor=None):
        page = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(catalog.list_sources, **page)

    @answer
    def create_source(self, data, actor):
        return self.db.run(catalog.create_source, data, actor)

    @answer
    def list_categories(self, limit=50, cursor=None):
        page = load(PageArgs(), {"limit": limit, "cursor": cursor})
        return self.db.run(catalog.list_categories, **page)

    @answer
    def create_category(self, data, actor):
        return self.db.run(catalog.create_category, data, actor)
