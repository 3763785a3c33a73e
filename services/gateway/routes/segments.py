"""/v1/segments... and /v1/contacts/{id}/segments: forwarded to the segments service,
which validates rules (422 naming the path in the rule). Membership is computed there;
no route sets it. A rule that tests a personal field needs contacts:read besides the
route's segments scope: checked here, before the service is asked."""

from __future__ import annotations

from plexus.contract import segments as schemas
from plexus.contract.services import SEGMENTS
from services.gateway.routes.call import Call
from services.gateway.web.problems import HttpProblem
from services.gateway.web.requests import PAGE, page_args
from services.gateway.web.routing import Answer, Route

READ, WRITE = "segments:read", "segments:write"


def _may_test_personal_fields(c: Call, rule) -> None:
    """A rule testing a personal field (email, phone, names, birthday, address,
    variables) tells, through counts, samples and explain, what the field holds: the key
    needs contacts:read as well, else 403 naming each such field."""
    if c.principal is None or c.principal.allows(schemas.PERSONAL_SCOPE):
        return
    personal = schemas.personal_conditions(rule)
    if personal:
        fields = ", ".join(sorted(set(personal.values())))
        raise HttpProblem(
            403,
            "Forbidden",
            f"this API key lacks the scope {schemas.PERSONAL_SCOPE!r}, which a rule testing "
            f"personal data needs ({fields})",
            {
                path: [
                    f"{field} is personal data: testing it needs the scope "
                    f"{schemas.PERSONAL_SCOPE!r}"
                ]
                for path, field in personal.items()
            },
        )


def _body_rule(c: Call):
    return c.body.get("rule") if isinstance(c.body, dict) else None


def list_segments(c: Call):
    return c.rpc(SEGMENTS, "list_segments", **page_args(c.args))


def create_segment(c: Call):
    _may_test_personal_fields(c, _body_rule(c))
    segment = c.rpc(SEGMENTS, "create_segment", c.body, c.actor)
    return Answer(201, segment, {"Location": f"/v1/segments/{segment['id']}"})


def get_segment(c: Call):
    return c.rpc(SEGMENTS, "get_segment", c.params["segment_id"])


def update_segment(c: Call):
    _may_test_personal_fields(c, _body_rule(c))
    return c.rpc(SEGMENTS, "update_segment", c.params["segment_id"], c.body, c.actor)


def delete_segment(c: Call):
    c.rpc(SEGMENTS, "delete_segment", c.params["segment_id"], c.actor)
    return Answer(204)


def members(c: Call):
    return c.rpc(SEGMENTS, "members", c.params["segment_id"], **page_args(c.args))


def contact_segments(c: Call):
    return c.rpc(SEGMENTS, "contact_segments", c.params["contact_id"])


def preview(c: Call):
    _may_test_personal_fields(c, _body_rule(c))
    return c.rpc(SEGMENTS, "preview", c.body)


def explain(c: Call):
    if c.principal is not None and not c.principal.allows(schemas.PERSONAL_SCOPE):
        # Only then is the rule needed here: one more call, for such keys alone.
        segment = c.rpc(SEGMENTS, "get_segment", c.params["segment_id"])
        _may_test_personal_fields(c, segment["rule"])
    return c.rpc(SEGMENTS, "explain", c.params["segment_id"], contact_id=c.args.get("contact_id"))


ONE = "/v1/segments/<segment_id>"
PERSONAL = (
    "A rule testing personal data (email, phone, first_name, last_name, birthday, "
    "address.*, variables.*) needs the scope contacts:read as well: 403 naming each "
    "such field otherwise."
)
T = "segments"

SEGMENT_ROUTES = (
    Route(
        "GET",
        "/v1/segments",
        list_segments,
        "Segment definitions, newest first",
        READ,
        T,
        response=schemas.Segment,
        many=True,
        query=PAGE,
    ),
    Route(
        "POST",
        "/v1/segments",
        create_segment,
        "Define a segment; it is evaluated over every contact before the answer (409 "
        "once 1,000 exist). " + PERSONAL,
        WRITE,
        T,
        body=schemas.SegmentInput,
        response=schemas.Segment,
        status=201,
    ),
    # Before ONE, so that "preview" is not read as a segment id.
    Route(
        "POST",
        "/v1/segments/preview",
        preview,
        "Count and sample the contacts a rule holds for, without saving it. " + PERSONAL,
        READ,
        T,
        body=schemas.PreviewInput,
        response=schemas.Preview,
    ),
    Route(
        "GET",
        ONE,
        get_segment,
        "One segment with its member count",
        READ,
        T,
        response=schemas.Segment,
    ),
    Route(
        "PATCH",
        ONE,
        update_segment,
        "Rename a segment or change its rule (re-evaluated at once; version + 1). " + PERSONAL,
        WRITE,
        T,
        body=schemas.SegmentPatch,
        response=schemas.Segment,
    ),
    Route(
        "DELETE", ONE, delete_segment, "Delete a segment and its membership", WRITE, T, status=204
    ),
    Route(
        "GET",
        ONE + "/members",
        members,
        "The ids of the segment's contacts, paged",
        READ,
        T,
        response=schemas.MemberPage,
        query=PAGE,
    ),
    Route(
        "GET",
        ONE + "/explain",
        explain,
        "Which parts of the rule hold for one contact, as a tree shaped like the rule. " + PERSONAL,
        READ,
        T,
        response=schemas.Explanation,
        query={"contact_id": "the contact to explain (required)"},
    ),
    Route(
        "GET",
        "/v1/contacts/<contact_id>/segments",
        contact_segments,
        "The segments the contact is in now",
        READ,
        T,
        response=schemas.Segment,
        many=True,
    ),
)
