"""The contact page in a real headless Chromium against the running suite: sign in,
search, the profile and each tab, a filter, a black-list action, a note, a send and an
erase. The tests run in order on one browser (one sign-in), as a person clicks through;
each leaves a screenshot under artifacts/screenshots/."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.page import Page
from tests.browser.seed import HOSTILE
from tests.polling import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def page(browser, suite, seeded, axe_script) -> Page:
    return Page(browser, suite.url, axe_script)


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
    # Every identifier, the channels' own too.
    identifiers = page.text("#identifiers")
    for shown in (
        "Telegram chat\n123456789",
        "Viber user\nvb-olena-01",
        "desktop · fcm.googleapis.com",
    ):
        assert shown in identifiers
    # The account's categories with the contact's opt-in.
    newsletter = page.find("#categories li[data-category=newsletter]")
    assert "opted in" in newsletter.text and "weekly news" in newsletter.text
    assert newsletter.find_element("css selector", "input").is_selected()
    assert "not asked" in page.text("#categories li[data-category=offers]")
    subscriptions = {
        row.get_attribute("data-channel"): row.text for row in page.all("#subscriptions tbody tr")
    }
    assert "subscribed" in subscriptions["email"]
    assert "unsubscribed" in subscriptions["sms"] and "asked by phone" in subscriptions["sms"]
    assert "subscribed" in subscriptions["telegram"]
    # A channel needing the person's own address, never subscribed, is not offered.
    assert "only the person can subscribe" in subscriptions["webpush_mobile"]
    assert not page.all("#subscriptions tr[data-channel=webpush_mobile] button")

    page.has_text("#feed .item", "sent")
    types = [item.text for item in page.all("#feed .item")]
    assert any("custom event" in t and "viewed_pricing" in t for t in types)
    assert any("order" in t for t in types)
    # The message row names its message; orders are counted over the whole history.
    assert any("sent" in t and "Our sale, Olena" in t for t in types)
    assert "Orders, all time: 1 · 120 UAH" in page.text("#orders")
    # 30 bars, one a day; the days with events have height.
    bars = page.all("#chart rect.bar")
    assert len(bars) == 30
    assert sum(int(bar.get_attribute("height")) > 0 for bar in bars) >= 5
    page.shot("06-profile-activity")


def test_the_avatar_link_is_editable(page, suite):
    page.click("#avatar-edit")
    page.type("#ask-value", f"{suite.url}/ui/avatar.svg?v=2")
    page.click("#ask-yes")
    page.notice("Avatar saved")
    page.until(
        lambda: page.find("#person img.avatar").get_attribute("src").endswith("?v=2"),
        "the new avatar",
    )


def _options(page, css: str) -> list[str]:
    return [o.get_property("value") for o in page.find(css).find_elements("css selector", "option")]


def test_a_filter_info_resend_and_download(page, seeded, downloads):
    # The status list follows the channel and the origin, from the server's vocabulary.
    types = "#feed-filters [name=type]"
    assert {"custom_event", "open", "added_to_segment"} <= set(_options(page, types))
    page.choose("#feed-filters [name=channel]", "other")
    assert _options(page, types) == ["", "custom_event", "custom_conversion", "order"]
    page.choose("#feed-filters [name=channel]", "")
    page.choose("#feed-filters [name=origin]", "campaign")
    assert "open" in _options(page, types) and "custom_event" not in _options(page, types)
    page.choose("#feed-filters [name=origin]", "")
    # All time: the whole history, charted by day since the oldest item.
    page.choose("#feed-filters [name=period]", "all")
    page.click("#feed-filters button[type=submit]")
    page.has_text("#chart figcaption", "all time")
    page.shot("07-activity-all-time")

    page.choose("#feed-filters [name=channel]", "email")
    page.choose(types, "sent")
    page.choose("#feed-filters [name=period]", "7d")
    page.click("#feed-filters button[type=submit]")
    page.until(
        lambda: all(
            item.get_attribute("data-channel") == "email" and "sent" in item.text
            for item in page.all("#feed .item")
        ),
        "only email items",
    )
    assert len(page.all("#chart rect.bar")) == 7

    page.click("#feed .item button", "Info")
    info = page.find("#info-message-fields").text
    assert seeded.message_id in info and "Our sale, Olena" in info
    assert "queued" in page.text("#info-history")
    # Field by field: the details' keys as labels, no JSON.
    fields = page.text("#info-fields")
    assert "Provider id" in fields and "{" not in fields
    assert not page.all("#info-trigger")[0].is_displayed()
    page.shot("08-activity-filtered-info")
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
    page.shot("10-variables")


def test_the_segments_tab(page, seeded):
    page.click(".tabs button", "Segments")
    segment = page.has_text("#segments li", "Ukrainian speakers").text
    assert "1 member ·" in segment and "member since" in segment and '"language"' in segment
    page.shot("11-segments-tab")


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
    page.shot("12-notes")


def test_a_black_list_action(page):
    page.click("#actions summary")
    page.click("#actions-items button", "Add to the email black list")
    page.type("#ask-value", "complained about frequency")
    page.click("#ask-yes")
    label = page.has_text("#person .badge.blacklisted", "email black-listed")
    assert label.get_attribute("title") == "complained about frequency"
    # The left panel says since when and why.
    entry = page.text("#blacklists [data-list=email]")
    assert entry.startswith("since ") and "reason: complained about frequency" in entry
    page.click("#actions summary")
    assert page.has_text("#actions-items button", "Remove from the email black list")
    page.shot("13-blacklisted")
    page.click("#actions summary")


def test_send_says_why_a_channel_is_not_allowed_then_sends(page, suite, seeded):
    page.click("#send-open")
    page.choose("#send-channel", "email")
    assert "the email is on the black list" in page.text("#send-why")
    assert not page.find("#send-submit").is_enabled()
    page.choose("#send-channel", "sms")
    assert "unsubscribed from sms" in page.text("#send-why")
    page.choose("#send-channel", "webpush_mobile")
    assert "no webpush_mobile address" in page.text("#send-why")
    page.shot("14-send-not-allowed")
    # The channel's limits as the text is typed: an SMS's length, encoding and segments.
    page.choose("#send-channel", "sms")
    page.type("#send-body", "x" * 161)
    assert page.text("#send-limits").startswith("161 characters (GSM-7) · 2 SMS segments")
    page.type("#send-body", "Привіт, Олено")
    assert page.text("#send-limits").startswith("13 characters (UCS-2) · 1 SMS segment")
    page.shot("15-send-sms-limits")
    page.type("#send-body", "")

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
    page.shot("16-sent")


def _focused_in(page, css: str) -> bool:
    return page.driver.execute_script(f"return Boolean(document.activeElement.closest({css!r}))")


def test_the_actions_by_keyboard_with_the_focus_kept_in_the_dialog(page):
    summary = page.find("#actions summary")
    summary.send_keys(Keys.ENTER)
    page.find("#actions-items button").send_keys(Keys.ENTER)
    page.find("#confirm")
    assert "will be sent nothing" in page.text("#confirm-text")
    # Tab and Shift+Tab go round the dialog's buttons, never to the page behind it.
    for keys in ([Keys.TAB] * 4, [Keys.SHIFT, Keys.TAB]):
        ActionChains(page.driver).send_keys(*keys).perform()
        assert _focused_in(page, "#confirm")
    ActionChains(page.driver).send_keys(Keys.ESCAPE).perform()
    page.until(lambda: not page.all("#confirm[open]"), "the dialog closed")
    assert page.text("#contact-status") == "active"


def test_every_action_and_subscription_change_asks_first(page, seeded):
    # Taking the email off the black list says which address and what follows.
    page.click("#actions summary")
    page.click("#actions-items button", "Remove from the email black list")
    assert "olena@example.com" in page.text("#confirm-text")
    page.shot("17-confirm-unblacklist")
    page.click("#confirm button", "Cancel")
    page.has_text("#person .badge.blacklisted", "email black-listed")
    page.click("#actions summary")
    page.click("#actions-items button", "Remove from the email black list")
    page.click("#confirm-yes")
    page.notice("Removed from the email black list")
    page.until(lambda: not page.all("#person .badge.blacklisted"), "no black-list label")

    # Deactivating says nothing will be sent; activating again says messages may be.
    page.click("#actions summary")
    page.click("#actions-items button", "Deactivate")
    assert "will be sent nothing" in page.text("#confirm-text")
    page.click("#confirm-yes")
    page.has_text("#contact-status", "inactive")
    page.click("#actions summary")
    page.click("#actions-items button", "Activate")
    assert "may be sent messages again" in page.text("#confirm-text")
    page.click("#confirm-yes")
    page.until(lambda: page.text("#contact-status") == "active", "active again")

    # A subscription change names the channel and what follows, with a reason.
    page.click("#subscriptions tr[data-channel=email] button", "Unsubscribe")
    assert "unsubscribed from email" in page.text("#ask-text")
    page.shot("18-confirm-unsubscribe")
    page.click("#ask button", "Cancel")
    assert "subscribed" in page.text("#subscriptions tr[data-channel=email]")
    page.click("#subscriptions tr[data-channel=sms] button", "Subscribe")
    assert "subscribed to sms" in page.text("#ask-text")
    page.type("#ask-value", "asked again in the shop")
    page.click("#ask-yes")
    page.has_text("#subscriptions tr[data-channel=sms]", "asked again in the shop")

    # A category's opt-out asks, then is stored.
    page.find("#categories li[data-category=newsletter] input").click()
    assert page.text("#confirm-title") == "Opt out of newsletter?"
    page.click("#confirm-yes")
    page.has_text("#categories li[data-category=newsletter]", "opted out")
    assert not page.find("#categories li[data-category=newsletter] input").is_selected()
    page.shot("19-confirmed-changes")


def test_an_email_as_html_has_its_links_tracked(page, suite, seeded):
    page.click("#send-open")
    page.choose("#send-channel", "email")
    page.type("#send-subject", "Spring offer")
    page.type("#send-body", "Our spring offer is here.")
    page.click("#send-from-text")
    assert page.find("#send-html").get_property("value") == "<p>Our spring offer is here.</p>"
    # The editor: a link around the selected words.
    page.driver.execute_script(
        "const a = document.querySelector('#send-html');"
        "const at = a.value.indexOf('spring offer'); a.setSelectionRange(at, at + 12);"
    )
    page.type("#send-link-url", "https://shop.example.com/spring")
    page.click("#send-link")
    html = page.find("#send-html").get_property("value")
    assert '<a href="https://shop.example.com/spring">spring offer</a>' in html
    page.shot("20-send-email-html")
    page.click("#send-submit")
    message_id = page.notice("is queued").split()[1]
    emails = Path(suite.env["PLEXUS_OUTBOX_DIR"]) / "email"
    sent = wait_for(
        lambda: next(emails.rglob(f"{message_id}.json"), None), 20, "the email handed over"
    )
    delivered = json.loads(sent.read_text())["content"]["html"]
    assert "/t/c/" in delivered and "/t/o/" in delivered
    assert "shop.example.com/spring" not in delivered  # only through the tracked link


def test_the_segments_screen(page, seeded):
    page.click("#nav-segments")
    row = page.has_text("#segments-table tbody tr", "Ukrainian speakers")
    assert row.find_element("css selector", "td.count").text == "1"
    page.shot("21-segments-screen")

    page.click("#segment-new")
    page.type("#segment-name", "Kyiv")
    page.type("#segment-rule", '{"field": "address.city", "op": "eq", "value": "Kyiv"}')
    page.has_text("#segment-preview", "1 contact now")
    page.has_text("#segment-sample li", "Olena Kovalenko")
    page.type("#segment-rule", '{"field": "address.city", "op": "eq"')
    page.has_text("#segment-preview", "not JSON")
    page.type("#segment-rule", '{"field": "address.city", "op": "eq", "value": "Kyiv"}')
    page.has_text("#segment-preview", "1 contact now")
    page.shot("22-segment-new-preview")
    page.click("#segment-save")
    page.notice("Kyiv saved: 1 member")
    page.has_text("#segments-table tbody tr", "Kyiv")

    page.click("#segments-table tr button[aria-label='Edit Ukrainian speakers']")
    page.type("#segment-explain-contact", "olena@example.com")
    page.click("#segment-explain")
    assert "A member" in page.text("#segment-explain-result")
    explained = page.text("#segment-explain-result .explain")
    assert "holds" in explained and '"field":"language"' in explained
    page.shot("23-segment-explain")
    page.type("#segment-rule", '{"field": "language", "op": "eq", "value": "en"}')
    page.has_text("#segment-preview", "0 contacts now")
    page.click("#segment-save")
    assert "evaluated again" in page.text("#confirm-text")
    page.click("#confirm-yes")
    page.notice("Ukrainian speakers saved: 0 members")
    page.until(
        lambda: (
            page.has_text("#segments-table tbody tr", "Ukrainian speakers")
            .find_element("css selector", "td.count")
            .text
            == "0"
        ),
        "no member left",
    )
    page.click("#nav-contacts")
    page.find("#contacts-table")


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
    page.open(f"/#/contacts/{seeded.contact['id']}")
    page.has_text("#contact-name", "Olena")
    page.click("#actions summary")
    page.click("#actions-items button", "Delete contact")
    assert "cannot be undone" in page.text("#confirm-text")
    page.shot("24-erase-confirm")
    page.click("#confirm-yes")
    page.notice("erased")
    page.find("#contacts")
    page.type("#contacts-q", "olena@example.com")
    page.click("#contacts-form button[type=submit]")
    page.find("#contacts-empty")
    page.shot("25-erased")
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


def test_info_names_the_campaign_that_sent_a_message(page, suite):
    """A campaign's message, sent for real to a contact of its own: Info names the
    campaign by its name, not only its id."""
    api, http = suite.url + "/v1", suite.http()

    def ok(answer):
        assert answer.status_code < 300, answer.text
        return answer.json()

    person = ok(
        http.post(f"{api}/contacts", json={"email": "mykola@example.com", "first_name": "Mykola"})
    )
    rule = {"field": "id", "op": "eq", "value": person["id"]}
    segment = ok(http.post(f"{api}/segments", json={"name": "Only Mykola", "rule": rule}))
    template = ok(
        http.post(
            f"{api}/templates",
            json={"name": "Autumn", "channel": "email", "subject": "Autumn sale", "body": "-30%"},
        )
    )
    campaign = ok(
        http.post(
            f"{api}/campaigns",
            json={
                "name": "Autumn sale",
                "channel": "email",
                "template_id": template["id"],
                "segment_id": segment["id"],
            },
        )
    )
    ok(http.post(f"{api}/campaigns/{campaign['id']}/start"))
    sent = wait_for(
        lambda: [
            item
            for item in ok(http.get(f"{api}/contacts/{person['id']}/activity"))["data"]
            if item["type"] == "sent"
        ],
        60,
        "the campaign's message sent",
    )
    page.open(f"/#/contacts/{person['id']}")
    page.has_text("#person", "mykola@example.com")
    # The feed keeps the filters chosen earlier in this tab: every channel and status again.
    page.choose("#feed-filters [name=channel]", "")
    page.choose("#feed-filters [name=type]", "")
    page.click("#feed-filters button[type=submit]")
    page.has_text("#feed .item", "sent")
    page.shot("24-campaign-contact")
    page.click("#feed .item button", "Info")
    trigger = page.text("#info-trigger-fields")
    assert f"Campaign\nAutumn sale ({campaign['id']})" in trigger, trigger
    assert sent[0]["origin"] == "campaign"
    page.shot("25-activity-info-campaign")
    page.click("#info button", "Close")
