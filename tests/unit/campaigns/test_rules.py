"""The pure rules: the state machine's 409s, the A/B split, the throttle."""

from collections import Counter

import pytest

from plexus.errors import Conflict
from services.campaigns.logic import split, throttle
from services.campaigns.logic.states import must_be_editable, next_status


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        ("draft", "start", "running"),
        ("running", "pause", "paused"),
        ("scheduled", "pause", "paused"),
        ("paused", "resume", "running"),
        ("draft", "cancel", "cancelled"),
        ("running", "cancel", "cancelled"),
        ("paused", "cancel", "cancelled"),
    ],
)
def test_allowed_actions(status, action, expected):
    assert next_status(status, action) == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("running", "start"),
        ("finished", "start"),
        ("draft", "pause"),
        ("paused", "pause"),
        ("running", "resume"),
        ("finished", "cancel"),
        ("cancelled", "cancel"),
        ("cancelled", "resume"),
    ],
)
def test_other_actions_are_409_naming_the_status(status, action):
    with pytest.raises(Conflict) as raised:
        next_status(status, action)
    assert raised.value.errors == {"status": [f"is {status}"]}


@pytest.mark.parametrize("status", ["scheduled", "running", "paused", "finished", "cancelled"])
def test_only_a_draft_is_changed_or_deleted(status):
    must_be_editable("draft", "changed")
    with pytest.raises(Conflict):
        must_be_editable(status, "changed")


def test_the_split_is_fixed_per_campaign_and_contact():
    assert split.rank("c1", "k1") == split.rank("c1", "k1")
    assert split.rank("c1", "k1") != split.rank("c2", "k1")
    assert 0 <= split.rank("c1", "k1") < 2**56


def test_the_test_group_is_dealt_evenly():
    contacts = [f"k{i}" for i in range(101)]
    ordered = sorted(contacts, key=lambda c: split.rank("camp", c))
    group = ordered[: split.test_group_size(len(contacts), 0.3)]
    dealt = split.deal(group, ["a", "b", "c"])
    sizes = Counter(dealt.values())
    assert len(group) == 31 and max(sizes.values()) - min(sizes.values()) <= 1
    assert split.test_group_size(3, 0.01) == 1 and split.test_group_size(10, 1.0) == 10


def test_the_winner_has_the_best_rate_not_the_most_opens():
    counts = {"a/sent": 100, "a/open": 30, "b/sent": 10, "b/open": 5}
    assert split.winner(["a", "b"], counts, "open") == "b"
    assert split.winner(["a", "b"], counts, "click") == "a"  # no clicks: the first
    assert split.winner(["a", "b"], {}, "open") == "a"


def test_the_throttle_leaves_what_the_minute_allows():
    assert throttle.allowance(None, 10_000, 500) == 500
    assert throttle.allowance(120, 0, 500) == 120
    assert throttle.allowance(120, 100, 500) == 20
    assert throttle.allowance(120, 130, 500) == 0
