"""The names a contact's values refer to: its source, its categories, its variables.
Loaded once for a request (one query per kind, however many contacts it carries) and
then checked in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from plexus.contract.contacts import variable_value_error
from services.contacts.models import Category, Source, VariableDefinition


@dataclass
class References:
    sources: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    variable_types: dict[str, str] = field(default_factory=dict)  # contact variables only

    @classmethod
    def load(cls, session: Session, contacts: Iterable[dict]) -> References:
        sources, categories, variables = set(), set(), set()
        for values in contacts:
            if values.get("source"):
                sources.add(values["source"])
            categories.update(values.get("categories") or ())
            variables.update(values.get("variables") or ())
        found = cls()
        if sources:
            found.sources = set(
                session.scalars(select(Source.name).where(Source.name.in_(sources)))
            )
        if categories:
            found.categories = set(
                session.scalars(select(Category.name).where(Category.name.in_(categories)))
            )
        if variables:
            found.variable_types = {
                name: kind
                for name, kind in session.execute(
                    select(VariableDefinition.name, VariableDefinition.type).where(
                        VariableDefinition.name.in_(variables),
                        VariableDefinition.scope == "contact",
                    )
                )
            }
        return found

    def errors(self, values: dict) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        source = values.get("source")
        if source is not None and source not in self.sources:
            errors["source"] = ["not a registered source"]
        for name in values.get("categories") or ():
            if name not in self.categories:
                errors[f"categories.{name}"] = ["not a registered category"]
        for name, value in (values.get("variables") or {}).items():
            kind = self.variable_types.get(name)
            if kind is None:
                errors[f"variables.{name}"] = ["not a defined contact variable"]
            elif value is not None and (problem := variable_value_error(kind, value)):
                errors[f"variables.{name}"] = [problem]
        return errors
