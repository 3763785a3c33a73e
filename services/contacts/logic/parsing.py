"""Reading request data with marshmallow schemas. A failure becomes plexus `Invalid`,
whose `errors` map dotted field paths (`address.country`, `contacts.3.email`) to
messages, the shape the gateway answers 422 with."""

from __future__ import annotations

from marshmallow import Schema, ValidationError

from plexus.errors import Invalid

# marshmallow files messages about an object as a whole under this key.
WHOLE = "_schema"


def error_paths(messages, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages to {"a.b.0.c": ["message", ...]}."""
    paths: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                if key == WHOLE:
                    walk(child, path)
                else:
                    walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path)
        else:
            paths.setdefault(path or WHOLE, []).append(str(node))

    walk(messages, prefix)
    return paths


def invalid(errors: dict[str, list[str]]) -> Invalid:
    return Invalid("invalid " + ", ".join(sorted(errors)), errors)


def load(schema: Schema, data, **kwargs) -> dict:
    try:
        return schema.load(data, **kwargs)
    except ValidationError as error:
        raise invalid(error_paths(error.messages)) from None


def load_partly(schema: Schema, data) -> tuple[dict, dict[str, list[str]]]:
    """The fields that are valid, and the errors of the others: for callers that go on
    to check more and report every problem at once."""
    try:
        return schema.load(data), {}
    except ValidationError as error:
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        return valid, error_paths(error.messages)
