"""Reading input with marshmallow schemas, for any service. A failure becomes plexus
`Invalid`, whose `errors` map dotted paths (`contact.email`, `events.3.occurred_at`) to
messages, the shape the gateway answers 422 with."""

from __future__ import annotations

from marshmallow import Schema, ValidationError

from plexus.errors import Invalid

# marshmallow files messages about an object as a whole under this key.
WHOLE = "_schema"


def flatten(messages, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"a.b.0.c": ["message", ...]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, child in messages.items():
            inner = path if key == WHOLE else (f"{path}.{key}" if path else str(key))
            for where, texts in flatten(child, inner).items():
                flat.setdefault(where, []).extend(texts)
        return flat
    if isinstance(messages, list | tuple):
        texts = [text for text in messages if not isinstance(text, dict | list | tuple)]
        flat = {path or WHOLE: [str(text) for text in texts]} if texts else {}
        for child in messages:
            if isinstance(child, dict | list | tuple):
                for where, more in flatten(child, path).items():
                    flat.setdefault(where, []).extend(more)
        return flat
    return {path or WHOLE: [str(messages)]}


def invalid(errors: dict[str, list[str]]) -> Invalid:
    return Invalid("invalid " + ", ".join(sorted(errors)), errors)


def load(schema: Schema, data, **kwargs) -> dict:
    try:
        return schema.load(data, **kwargs)
    except ValidationError as error:
        raise invalid(flatten(error.messages)) from None


def load_partly(schema: Schema, data) -> tuple[dict, dict[str, list[str]]]:
    """The fields that are valid, and the errors of the others: for callers that go on
    to check more and report every problem at once."""
    try:
        return schema.load(data), {}
    except ValidationError as error:
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        return valid, flatten(error.messages)
