"""Which conditions of a rule test a person's data (and so need contacts:read as well as
segments:read): found at any depth, by the path of their field, in any JSON."""

from plexus.contract.segments import personal_conditions


def test_personal_fields_are_found_at_any_depth_by_path():
    rule = {
        "all": [
            {"field": "language", "op": "eq", "value": "uk"},
            {
                "any": [
                    {"field": "email", "op": "contains", "value": "@"},
                    {"not": {"field": "variables.plan", "op": "exists"}},
                ]
            },
            {"field": "address.city", "op": "eq", "value": "Lviv"},
            {"subscribed": "email"},
            {"activity": {"channel": "email"}},
        ]
    }
    assert personal_conditions(rule) == {
        "rule.all.1.any.0.field": "email",
        "rule.all.1.any.1.not.field": "variables.plan",
        "rule.all.2.field": "address.city",
    }


def test_each_personal_field_counts_and_the_others_do_not():
    for field in (
        "email",
        "phone",
        "first_name",
        "last_name",
        "birthday",
        "address.postcode",
        "variables.x",
    ):
        assert personal_conditions({"field": field, "op": "exists"}) == {"rule.field": field}
    for field in ("language", "status", "contact_score", "created_at", "source", "id"):
        assert personal_conditions({"field": field, "op": "exists"}) == {}


def test_anything_that_is_not_a_rule_is_walked_without_error():
    for junk in (
        None,
        "everyone",
        [],
        {"all": "x"},
        {"not": 3},
        {"field": 7},
        {"any": [None, {"field": "phone"}]},
    ):
        personal_conditions(junk)
    assert personal_conditions({"any": [None, {"field": "phone"}]}) == {"rule.any.1.field": "phone"}
