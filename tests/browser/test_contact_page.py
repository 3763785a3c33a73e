"""The contact page in a real headless Chromium against the running suite: sign in,
search, the profile and each tab, a filter, a black-list action, a note, a send and an
erase. The tests run in order on one browser (one sign-in), as a person clicks through;
each leaves a screenshot under artifacts/screenshots/."""

import json
import time
from datetime import UTC, datetime

import pytest
import requests

from tests.browser.page import Page
from tests.browser.seed import HOSTILE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def page(browser, suite, seeded) -> Page:
    return Page(browser, suite.url)


def test_the_page_is_served_with_a_strict_policy(suite):
    answer = requests.get(suite.url + "/", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    script = requests.get(suite.url + "/ui/app.js", timeout=5)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "max-age" in script.headers["Cache-Control"]


def _listed(page) -> list[str]:
    return [row.get_attribute("data-id") for row in page.all("#contacts-table tbody tr")]


def _hash(page) -> str:
    return page.driver.execute_script("return location.hash")


def test_sign_in_lands_on_the_contacts_list(page, suite, seeded):
    page.open("/")
    page.find("#api-key")
    page.shot("01-sign-in")
    page.type("#api-key", "plx_not-a-key-at-all-000000000000")
    page.click("#sign-in-form button")
    assert "not valid" in page.text("#sign-in-error")

    page.type("#api-key", suite.key)
    page.click("#sign-in-form button")
    # The key is in this tab's sessionStorage only.
    stored = page.driver.execute_script(
        "return [sessionStorage.getItem('plexus.apiKey'), localStorage.length, document.cookie]"
    )
    assert stored == [suite.key, 0, ""]
    # Newest first: the contacts made in bulk, then Taras, then Olena.
    page.until(lambda: len(_listed(page)) == 50, "a page of 50 contacts")
    assert _listed(page)[0] == seeded.bulk[-1]
    page.shot("02-contacts-list")


def test_the_list_pages_with_the_cursor_and_the_url_keeps_it(page, seeded):
    first = _listed(page)
    page.click("#contacts-next")
    page.until(lambda: _listed(page) and _listed(page)[0] != first[0], "the next page")
    assert _listed(page)[-2:] == [seeded.other["id"], seeded.contact["id"]]
    assert "cursor=" in _hash(page)
    page.shot("03-contacts-next-page")
    page.driver.back()
    page.until(lambda: _listed(page) == first, "the first page again")
    page.driver.forward()
    page.until(lambda: seeded.contact["id"] in _listed(page), "the second page again")
    page.click("#contacts-first")
    page.until(lambda: _listed(page) == first, "the first page")


def test_search_by_any_identifier_or_a_name_prefix(page, seeded):
    page.type("#contacts-q", "nobody@example.com")
    page.click("#contacts-form button[type=submit]")
    page.find("#contacts-empty")
    for query, found in (
        (seeded.other["phone"], seeded.other["id"]),
        ("OLENA@example.com", seeded.contact["id"]),
        ("u-1001", seeded.contact["id"]),
        ("kova", seeded.contact["id"]),
        ("tar", seeded.other["id"]),
    ):
        page.type("#contacts-q", query)
        page.click("#contacts-form button[type=submit]")
        page.until(lambda found=found: _listed(page) == [found], f"{query} finds one")
    assert "q=tar" in _hash(page)
    page.shot("04-contacts-search")
    # A row opens the profile; back comes to the same search.
    page.find(f"#contacts-table tr[data-id='{seeded.other['id']}'] td:nth-child(3)").click()
    assert page.text("#contact-name") == "Taras"
    page.driver.back()
    page.until(lambda: _listed(page) == [seeded.other["id"]], "the search again")
    assert page.find("#contacts-q").get_attribute("value") == "tar"


def test_filters_by_status_subscription_and_segment(page, seeded):
    page.click("#contacts-clear")
    page.until(lambda: len(_listed(page)) == 50, "the whole list")
    page.choose("#contacts-subscribed", "telegram")
    page.until(lambda: _listed(page) == [seeded.contact["id"]], "the telegram subscriber")
    assert "subscribed=telegram" in _hash(page)
    page.choose("#contacts-subscribed", "")
    page.choose("#contacts-status", "inactive")
    page.until(lambda: _listed(page) == [seeded.bulk[0]], "the inactive one")
    page.choose("#contacts-status", "")
    page.choose("#contacts-segment", seeded.segment["id"])
    page.until(lambda: _listed(page) == [seeded.contact["id"]], "the segment's member")
    assert "members of the segment" in page.text("#contacts-note").lower()
    page.shot("05-contacts-segment-filter")
    page.click(f"#contacts-table tr[data-id='{seeded.contact['id']}'] a", "Olena")
    assert page.text("#contact-name") == "Olena Kovalenko"


def test_the_profile_shows_the_person_and_the_activity(page, seeded):
    person = page.find("#person").text
    for shown in (
        "u-1001",
        "olena@example.com",
        "+380501234567",
        "1990-04-12",
        "female",
        "Europe/Kyiv",
        "Khreshchatyk 1, Kyiv, UA",
        "website",
        "42",
        "active",
    ):
        assert shown in person
    today = datetime.now(UTC).date()
    age = today.year - 1990 - ((today.month, today.day) < (4, 12))
    assert "Age" in person and str(age) in person
    assert "Created via" in person and "api" in person.split("Created via", 1)[1]
    subscriptions = {
        row.get_attribute("data-channel"): row.text for row in page.all("#subscriptions tbody tr")
    }
    assert "subscribed" in subscriptions["email"]
    assert "unsubscribed" in subscriptions["sms"] and "asked by phone" in subscriptions["sms"]
    assert "subscribed" in subscriptions["telegram"]

    page.has_text("#feed .item", "sent")
    types = [item.text for item in page.all("#feed .item")]
    assert any("custom event" in t and "viewed_pricing" in t for t in types)
    assert any("order" in t for t in types)
    # 30 bars, one a day; the days with events have height.
    bars = page.all("#chart rect.bar")
    assert len(bars) == 30
    assert sum(int(bar.get_attribute("height")) > 0 for bar in bars) >= 5
    page.shot("02-profile-activity")


def test_the_avatar_link_is_editable(page, suite):
    page.click("#avatar-edit")
    page.type("#ask-value", f"{suite.url}/ui/avatar.svg?v=2")
    page.click("#ask-yes")
    page.notice("Avatar saved")
    page.until(
        lambda: page.find("#person img.avatar").get_attribute("src").endswith("?v=2"),
        "the new avatar",
    )


def test_a_filter_info_resend_and_download(page, seeded, downloads):
    page.choose("#feed-filters [name=channel]", "email")
    page.choose("#feed-filters [name=period]", "7d")
    page.click("#feed-filters button[type=submit]")
    page.until(
        lambda: all(
            item.get_attribute("data-channel") == "email" for item in page.all("#feed .item")
        ),
        "only email items",
    )
    assert len(page.all("#chart rect.bar")) == 7

    page.click("#feed .item button", "Info")
    info = page.find("#info-message-fields").text
    assert seeded.message_id in info and "Our sale, Olena" in info
    assert "queued" in page.text("#info-history")
    page.shot("03-activity-filtered-info")
    page.click("#info button", "Close")

    page.click("#feed .item button", "Resend")
    assert "Our sale, Olena" in page.text("#confirm-text")
    page.click("#confirm-yes")
    assert "is queued" in page.notice("Sent again")

    page.click("#feed-download")
    contact_id = seeded.contact["id"]
    done = page.until(
        lambda: (
            (downloads / f"activity-{contact_id}.csv").exists()
            and (downloads / f"activity-{contact_id}.csv").read_text()
        ),
        "the CSV",
    )
    assert done.splitlines()[0].startswith("id,occurred_at,channel")


def test_the_variables_tab_edits_inline(page):
    page.click(".tabs button", "Variables")
    page.has_text("#variables tbody tr", "support_phone")
    page.type("#variables-search", "pla")
    page.until(
        lambda: [r.get_attribute("data-name") for r in page.all("#variables tbody tr")] == ["plan"],
        "only plan",
    )
    page.click("#variables tr[data-name=plan] button", "Edit")
    page.type("#variables tr[data-name=plan] input", "enterprise")
    page.click("#variables tr[data-name=plan] button", "Save")
    page.notice("plan saved")
    page.has_text("#variables tr[data-name=plan] td.value", "enterprise")
    page.type("#variables-search", "")
    page.has_text("#variables tbody tr", "first_name")
    page.shot("04-variables")


def test_the_segments_tab(page, seeded):
    page.click(".tabs button", "Segments")
    segment = page.has_text("#segments li", "Ukrainian speakers").text
    assert "1 member ·" in segment and "member since" in segment and '"language"' in segment
    page.shot("05-segments")


def test_notes_add_and_delete_after_asking(page):
    page.click(".tabs button", "Notes")
    # The hostile note is shown as the text it is, and nothing of it ran.
    page.has_text("#notes li", HOSTILE)
    assert page.driver.title == "Plexus contacts"
    assert not page.all("#notes img, #notes b")

    page.type("#note-content", "Asked for a call back on Monday")
    assert page.text("#note-count") == "31 / 500"
    page.click("#note-form button[type=submit]")
    page.has_text("#notes li", "Asked for a call back on Monday")

    page.has_text("#notes li", "Prefers Viber").find_element("css selector", "button").click()
    assert "cannot be recovered" in page.text("#confirm-text")
    page.click("#confirm button", "Cancel")
    page.has_text("#notes li", "Prefers Viber")
    page.has_text("#notes li", "Prefers Viber").find_element("css selector", "button").click()
    page.click("#confirm-yes")
    page.notice("Note deleted")
    page.until(lambda: len(page.all("#notes li")) == 2, "two notes left")
    assert page.text("#notes-count") == "2 of 5 notes"
    page.shot("06-notes")


def test_a_black_list_action(page):
    page.click("#actions summary")
    page.click("#actions-items button", "Add to the email black list")
    page.type("#ask-value", "complained about frequency")
    page.click("#ask-yes")
    label = page.has_text("#person .badge.blacklisted", "email black-listed")
    assert label.get_attribute("title") == "complained about frequency"
    page.click("#actions summary")
    assert page.has_text("#actions-items button", "Remove from the email black list")
    page.shot("07-blacklisted")
    page.click("#actions summary")


def test_send_says_why_a_channel_is_not_allowed_then_sends(page, suite, seeded):
    page.click("#send-open")
    page.choose("#send-channel", "email")
    assert "the email is on the black list" in page.text("#send-why")
    assert not page.find("#send-submit").is_enabled()
    page.choose("#send-channel", "sms")
    assert "unsubscribed from sms" in page.text("#send-why")
    page.choose("#send-channel", "viber")
    assert "no viber address" in page.text("#send-why")
    page.shot("08-send-not-allowed")

    page.choose("#send-channel", "telegram")
    assert not page.all("#send-why")[0].is_displayed()
    page.type("#send-body", "Your order SO-1001 has shipped")
    page.click("#send-submit")
    notice = page.notice("is queued")
    message_id = notice.split()[1]
    sent = suite.http().get(f"{suite.url}/v1/messages/{message_id}", timeout=5).json()
    assert sent["channel"] == "telegram" and sent["contact_id"] == seeded.contact["id"]
    # The page shows the feed after a send; the sender's "sent" item comes a moment later.
    page.choose("#feed-filters [name=channel]", "telegram")

    def telegram_sent():
        page.click("#feed-filters button[type=submit]")
        time.sleep(0.3)
        return any("sent" in item.text for item in page.all("#feed .item"))

    page.until(telegram_sent, "the telegram message's sent item in the feed")
    page.shot("09-sent")


def test_plexus_export_activity_writes_the_feed_the_page_shows(suite, seeded, tmp_path):
    # The command of the same download, through the same gateway route.
    feed = (
        suite.http()
        .get(
            f"{suite.url}/v1/contacts/{seeded.contact['id']}/activity",
            params={"limit": 200},
            timeout=5,
        )
        .json()["data"]
    )
    target = tmp_path / "feed.ndjson"
    done = suite.plexus(
        "export", "activity", "email=olena@example.com", "-o", str(target), "--key", suite.key
    )
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in target.read_text().splitlines()]
    assert [item["id"] for item in exported] == [item["id"] for item in feed]


def test_erase_asks_then_the_contact_is_gone_everywhere(page, suite, seeded):
    page.click("#actions summary")
    page.click("#actions-items button", "Delete contact")
    assert "cannot be undone" in page.text("#confirm-text")
    page.shot("10-erase-confirm")
    page.click("#confirm-yes")
    page.notice("erased")
    page.find("#contacts")
    page.type("#contacts-q", "olena@example.com")
    page.click("#contacts-form button[type=submit]")
    page.find("#contacts-empty")
    page.shot("11-erased")
    answer = suite.http().get(f"{suite.url}/v1/contacts/{seeded.contact['id']}", timeout=5)
    assert answer.status_code == 404


def test_no_script_error_on_the_page(page):
    # Console errors the page met along the way (a CSP refusal would show here).
    logs = page.driver.get_log("browser")
    severe = [
        entry
        for entry in logs
        if entry["level"] == "SEVERE"
        and "404" not in entry["message"]
        and "409" not in entry["message"]
        and "401" not in entry["message"]
    ]
    assert severe == [], json.dumps(severe, indent=1)
