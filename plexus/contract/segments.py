"""The segments resources and the vocabulary of the rule language.

The segments service validates rules (services.segments.logic.validation) against the
names here; the gateway publishes the schemas as OpenAPI. A rule is JSON:

    {"all": [r, ...]} | {"any": [r, ...]} | {"not": r}
    {"field": "language", "op": "eq", "value": "uk"}
    {"subscribed": "email"}  {"blacklisted": "phone"}  {"category": "newsletter"}
    {"activity": {"channel"?, "type"?, "name"?, "origin"?, "within_days"?, "min_count"?}}
"""

from __future__ import annotations

from marshmallow import fields

from plexus.contract.fields import Authored, StrictSchema, Text

# Contact fields a rule can test, by kind (which operators apply); address parts as
# "address.<part>", custom variables as "variables.<name>" (their kind is the value's).
STRING, NUMBER, DATE, MOMENT = "string", "number", "date", "moment"
FIELDS = {
    "id": STRING,
    "user_id": STRING,
    "email": STRING,
    "phone": STRING,
    "first_name": STRING,
    "last_name": STRING,
    "birthday": DATE,
    "gender": NUMBER,
    "language": STRING,
    "timezone": STRING,
    "source": STRING,
    "avatar_url": STRING,
    "address.country": STRING,
    "address.region": STRING,
    "address.city": STRING,
    "address.street": STRING,
    "address.postcode": STRING,
    "contact_score": NUMBER,
    "status": STRING,
    "created_at": MOMENT,
    "updated_at": MOMENT,
}
VARIABLE_PREFIX = "variables."
# Fields that are a person's data: a rule testing one answers, through counts and
# samples, what the field holds (an email found one guess at a time), so it needs the
# scope that reads contacts as well as the segments scope.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "birthday",
        "address.country",
        "address.region",
        "address.city",
        "address.street",
        "address.postcode",
    }
)
PERSONAL_SCOPE = "contacts:read"

COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte")
LISTS = ("in", "not_in")
TEXT_OPS = ("contains", "starts_with")
DAY_OPS = ("within_last_days", "more_than_days_ago")  # date and time fields
BIRTHDAY_OP = "birthday_in_days"  # birthday (and date variables)
OPS = (*COMPARISONS, *LISTS, "exists", *TEXT_OPS, *DAY_OPS, BIRTHDAY_OP)
# Operators whose answer changes with the clock alone: the periodic pass re-checks them.
TIME_OPS = (*DAY_OPS, BIRTHDAY_OP)
MAX_DAYS = 36_500
# What one rule may hold: a rule is evaluated over every contact when saved, and again
# for each contact whose data it reads changes, so its size is paid on every event.
MAX_DEPTH = 10
MAX_CONDITIONS = 100  # groups and conditions
MAX_LIST_VALUES = 1_000  # values of one in / not_in
MAX_RULE_VALUES = 2_000  # values of every in / not_in of the rule together
MAX_SEGMENTS = 1_000  # segments a deployment may hold
NAME_MAX = 100


def _about(text: str) -> dict:
    return {"description": text}


RULE_ABOUT = _about(
    "A rule of the segment language (the README shows them); a bad rule is 422 naming its "
    f"path, e.g. rule.all.2.op. At most {MAX_CONDITIONS} conditions, {MAX_DEPTH} deep, "
    f"{MAX_LIST_VALUES:,} values a list and {MAX_RULE_VALUES:,} in all; a rule whose "
    "evaluation over every contact runs past the time limit is 422 naming `rule`."
)


class SegmentInput(StrictSchema):
    name = Text(required=True, max_length=NAME_MAX)
    rule = fields.Dict(required=True, metadata=RULE_ABOUT)


class SegmentPatch(StrictSchema):
    name = Text(max_length=NAME_MAX)
    rule = fields.Dict(metadata=RULE_ABOUT)


class Segment(StrictSchema, Authored):
    id = fields.String()
    name = fields.String()
    rule = fields.Dict()
    version = fields.Integer(metadata=_about("1 when created, one more at each rule change"))
    member_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PreviewInput(StrictSchema):
    rule = fields.Dict(required=True, metadata=RULE_ABOUT)


class Preview(StrictSchema):
    count = fields.Integer()
    sample = fields.List(fields.String(), metadata=_about("up to 20 contact ids"))


class Explanation(StrictSchema):
    segment_id = fields.String()
    contact_id = fields.String()
    member = fields.Boolean(metadata=_about("whether the contact is a member now"))
    explain = fields.Dict(
        metadata=_about(
            "The rule as a tree, each node with `holds` (true/false) and, for all/any/not, `parts`"
        )
    )


class MemberPage(StrictSchema):
    data = fields.List(fields.String())
    next_cursor = fields.String(allow_none=True)


def is_personal(field) -> bool:
    return isinstance(field, str) and (
        field in PERSONAL_FIELDS
        or field.startswith(VARIABLE_PREFIX)
        or field.startswith("address.")
    )


def personal_conditions(rule, path: str = "rule") -> dict[str, str]:
    """The conditions of `rule` that test a personal field: {path of its field: field}.
    Any JSON is walked (it may not have been validated yet); what is not a rule is
    skipped."""
    found: dict[str, str] = {}
    stack = [(rule, path)]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, dict):
            continue
        if "field" in node:
            if is_personal(node["field"]):
                found[f"{where}.field"] = node["field"]
            continue
        for key in ("all", "any"):
            if isinstance(node.get(key), list):
                stack.extend(
                    (part, f"{where}.{key}.{index}") for index, part in enumerate(node[key])
                )
        if "not" in node:
            stack.append((node["not"], f"{where}.not"))
    return dict(sorted(found.items()))
