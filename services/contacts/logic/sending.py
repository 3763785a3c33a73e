"""What messaging needs to send to many contacts at once (a campaign batch): the part
of each contact's resource a send reads and its variables by name, in a few statements
for the whole batch."""

from __future__ import annotations

from sqlalchemy.orm import Session

from plexus.contract.contacts import SENDING_FIELDS
from plexus.errors import Invalid
from plexus.keys import usable_key
from services.contacts.logic.message_variables import values_of_many
from services.contacts.logic.reading import contacts_among

MAX_IDS = 500  # a messaging batch (plexus.contract.messages.MAX_BATCH)


def contacts_for_sending(session: Session, ids) -> dict:
    """{contact_id: {"contact": {SENDING_FIELDS of its resource}, "variables": {name:
    value}}} for the ids that name a contact; the others are left out (erased, or never
    were)."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("ids must be a list of contact ids", {"ids": ["must be a list of strings"]})
    if len(ids) > MAX_IDS:
        raise Invalid(f"at most {MAX_IDS} ids", {"ids": [f"at most {MAX_IDS}"]})
    wanted = sorted({i for i in ids if usable_key(i)})
    if not wanted:
        return {}
    variables = values_of_many(session, wanted)
    return {
        contact["id"]: {
            "contact": {name: contact[name] for name in SENDING_FIELDS},
            "variables": variables.get(contact["id"], {}),
        }
        for contact in contacts_among(session, wanted)
    }
