"""The registers contacts refer to: acquisition sources and subscription categories."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.contacts import CategoryInput, SourceInput
from plexus.errors import Conflict
from plexus.paging import page
from plexus.parsing import load
from plexus.timeutil import utcnow
from services.contacts.logic.conflicts import EXISTS, flush
from services.contacts.logic.representation import category_resource, source_resource
from services.contacts.models import Category, Source


def _register(session: Session, model: type, values: dict, what: str, actor: str):
    if session.get(model, values["name"]) is not None:
        raise Conflict(f"{what} {values['name']} {EXISTS}", {"name": [EXISTS]})
    row = model(**values, created_at=utcnow(), created_by=actor, updated_by=actor)
    session.add(row)
    flush(session, {"name": "name"}, EXISTS)
    return row


def list_sources(session: Session, limit: int, cursor: str | None) -> dict:
    return page(session, select(Source), Source.name, limit, cursor, source_resource)


def create_source(session: Session, data, actor: str) -> dict:
    return source_resource(_register(session, Source, load(SourceInput(), data), "source", actor))


def list_categories(session: Session, limit: int, cursor: str | None) -> dict:
    return page(session, select(Category), Category.name, limit, cursor, category_resource)


def create_category(session: Session, data, actor: str) -> dict:
    return category_resource(
        _register(session, Category, load(CategoryInput(), data), "category", actor)
    )
