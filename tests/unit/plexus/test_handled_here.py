"""plexus.consumer.HandledHere: which redelivered messages were handled in this process."""

import eventlet

from plexus.consumer import HandledHere


def test_only_a_run_that_ended_well_counts_as_handled():
    handled = HandledHere()
    handled.started("a")
    handled.started("b")
    assert handled.known("a") and handled.known("b") and not handled.known("c")
    handled.finished("a", ok=True)
    handled.finished("b", ok=False)
    assert handled.wait_and_check("a") is True
    assert handled.wait_and_check("b") is False  # failed: its redelivery is its retry
    assert not handled.known("b")


def test_a_redelivery_waits_for_the_run_under_way():
    handled = HandledHere()
    handled.started("a")
    waiting = eventlet.spawn(handled.wait_and_check, "a")
    eventlet.sleep(0)
    assert not waiting.dead
    handled.finished("a", ok=True)
    assert waiting.wait() is True


def test_it_remembers_a_bounded_number_of_messages():
    handled = HandledHere(remembered=2)
    for key in "abc":
        handled.started(key)
        handled.finished(key, ok=True)
    assert [k for k in "abc" if handled.known(k)] == ["b", "c"]
