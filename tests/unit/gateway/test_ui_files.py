"""The web page's files as the gateway serves them: only what ships in
services/gateway/ui, with its content type, cache headers and a strict CSP; nothing of
it in the API description; and no script in the HTML or markup built from strings."""

import json
import re
import tomllib

import pytest
from werkzeug.datastructures import Headers, MultiDict

from plexus.contract import vocab
from services.gateway.openapi import docs_page, spec
from services.gateway.routes import ui
from services.gateway.routes.call import Call
from services.gateway.web.problems import HttpProblem


def call(name: str | None = None, **headers) -> Call:
    return Call(
        params={"name": name} if name else {},
        args=MultiDict(),
        body=None,
        principal=None,
        rpc=None,
        headers=Headers(headers),
    )


def test_the_page_is_index_html_checked_on_every_load():
    answer = ui.page(call())
    assert answer.status == 200
    assert answer.payload == (ui.FOLDER / "index.html").read_bytes()
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "name, kind",
    [("app.js", "text/javascript"), ("app.css", "text/css"), ("avatar.svg", "image/svg+xml")],
)
def test_assets_have_their_type_and_may_be_cached(name, kind):
    answer = ui.asset(call(name))
    assert answer.headers["Content-Type"].startswith(kind)
    assert "max-age" in answer.headers["Cache-Control"]


def test_every_answer_carries_a_policy_with_no_inline_script():
    policy = ui.asset(call("app.js")).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert ui.page(call()).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["nope.js", "..", "../routes/ui.py", "__init__.py", "ui.py", "index.html\n"]
)
def test_nothing_else_is_served(name):
    with pytest.raises(HttpProblem) as raised:
        ui.asset(call(name))
    assert raised.value.status == 404


def test_a_cached_copy_is_revalidated_by_its_etag():
    first = ui.asset(call("app.css"))
    again = ui.asset(call("app.css", **{"If-None-Match": first.headers["ETag"]}))
    assert again.status == 304 and again.payload == b""
    changed = ui.asset(call("app.css", **{"If-None-Match": '"stale"'}))
    assert changed.status == 200


def test_the_page_is_not_part_of_the_api_description():
    assert not [path for path in spec()["paths"] if path == "/" or path.startswith("/ui")]
    assert "/ui/" not in docs_page()


def test_the_html_has_no_inline_script_or_style():
    html = (ui.FOLDER / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_no_script_builds_markup_from_strings():
    # Contacts are hostile input: the page only ever sets text.
    for script in ui.FOLDER.glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"


def test_every_kind_of_file_served_ships_in_the_package():
    # An installed gateway (the Docker image) has only what package-data names.
    with open(ui.FOLDER.parents[2] / "pyproject.toml", "rb") as handle:
        package_data = tomllib.load(handle)["tool"]["setuptools"]["package-data"]
    assert {f"ui/*{suffix}" for suffix in ui.TYPES} <= set(package_data["services.gateway"])


def test_the_vocabulary_is_served_from_the_contract():
    # The page reads channels and activity types from here, never from a copy of its own.
    answer = ui.asset(call("vocabulary.json"))
    assert answer.headers["Content-Type"] == "application/json"
    served = json.loads(answer.payload)
    assert served["activity_types"] == {
        channel: list(types) for channel, types in vocab.ACTIVITY_TYPES.items()
    }
    assert served["origins"] == list(vocab.ORIGINS)
    assert served["message_channels"] == list(vocab.MESSAGE_CHANNELS)
