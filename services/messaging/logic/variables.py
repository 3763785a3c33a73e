"""What a template sees: the contact's fields, its custom variables and the account
variables (as the contacts service lists them: `contact_variables`), and `data`."""

from __future__ import annotations


def template_context(variables: dict, data: dict | None) -> dict:
    """From the contact's variables by name: `address.city` and `categories.news`
    become nested, so a template writes `{{ address.city }}`; everything else is a
    top-level name."""
    context: dict = {}
    for name, value in variables.items():
        head, dot, rest = name.partition(".")
        if dot:
            context.setdefault(head, {})[rest] = value
        else:
            context.setdefault(name, value)
    context["data"] = dict(data or {})
    return context
