import io

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from plexus.errors import Invalid
from services.gateway.routes import ROUTES
from services.gateway.web.problems import HttpProblem
from services.gateway.web.requests import check_query, page_args, parse_json_object, read_body
from services.gateway.web.routing import Router


def _request(data: bytes, **kwargs) -> Request:
    return Request(EnvironBuilder(method="POST", data=data, **kwargs).get_environ())


@pytest.mark.parametrize(
    "raw, says",
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1e999}', "not valid JSON"),
        (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
        (b"", "required"),
    ],
)
def test_malformed_bodies_are_400_with_a_reason(raw, says):
    with pytest.raises(HttpProblem) as problem:
        parse_json_object(raw)
    assert problem.value.status == 400
    assert says in problem.value.detail


def test_a_valid_object_is_parsed():
    assert parse_json_object('{"name": "Олена", "n": 1.5}'.encode()) == {"name": "Олена", "n": 1.5}
    assert parse_json_object(b"  ", required=False) is None


def test_body_over_the_limit_is_413_with_or_without_a_length():
    with pytest.raises(HttpProblem) as declared:
        read_body(_request(b"x" * 101), limit=100)
    assert declared.value.status == 413
    environ = EnvironBuilder(
        method="POST", input_stream=io.BytesIO(b"x" * 101), headers={"Transfer-Encoding": "chunked"}
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    with pytest.raises(HttpProblem) as chunked:
        read_body(Request(environ), limit=100)
    assert chunked.value.status == 413
    assert read_body(_request(b"x" * 100), limit=100) == b"x" * 100


def test_page_arguments_are_checked_and_name_the_field():
    assert page_args({}) == {"limit": 50, "cursor": None}
    assert page_args({"limit": "200", "cursor": "abc"}) == {"limit": 200, "cursor": "abc"}
    for bad in ("0", "201", "ten"):
        with pytest.raises(Invalid) as invalid:
            page_args({"limit": bad})
        assert list(invalid.value.errors) == ["limit"]


@pytest.mark.parametrize(
    "raw, field",
    [
        (rb'{"first_name": "Ol\ud800ena"}', "first_name"),
        (rb'{"address": {"city": "\udfff"}}', "address.city"),
        (rb'{"contacts": [{"email": "a@b.c"}, {"note": "\ud83d"}]}', "contacts.1.note"),
        (rb'{"variables": {"\ud800": 1}}', "variables.\ud800"),
    ],
)
def test_a_lone_surrogate_is_422_naming_its_field(raw, field):
    # Valid JSON, but not text: before, it reached the database and was a 500.
    with pytest.raises(Invalid) as invalid:
        parse_json_object(raw)
    assert list(invalid.value.errors) == [field]
    assert parse_json_object(rb'{"first_name": "\ud83d\ude00"}') == {"first_name": "\U0001f600"}


@pytest.mark.parametrize(
    "path", ["/v1//contacts", "/v1/contacts//x/notes", "/v1/contacts/x//notes"]
)
def test_a_doubled_slash_is_no_route_not_a_redirect(path):
    with pytest.raises(HttpProblem) as problem:
        Router(ROUTES).match("GET", path)
    assert problem.value.status == 404


def test_a_nul_in_a_query_parameter_is_422_naming_it():
    # On PostgreSQL it failed the statement it reached: GET /v1/templates?cursor=%00 was a 500.
    args = Request(EnvironBuilder(query_string="limit=5&cursor=%00abc").get_environ()).args
    with pytest.raises(Invalid) as invalid:
        check_query(args)
    assert invalid.value.errors == {"cursor": ["must not contain NUL characters"]}
    check_query(Request(EnvironBuilder(query_string="email=a%40b.c&q=%C3%A9").get_environ()).args)
