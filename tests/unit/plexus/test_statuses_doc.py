"""docs/statuses.md against the vocabulary: every (channel, status) pair of
ACTIVITY_TYPES has a row naming its producer and a test, no row names a status the
vocabulary does not have (a dropped one is struck through), and every test named exists."""

import re
from pathlib import Path

from plexus.contract import vocab

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "statuses.md"
EVERY = "Every channel"


def rows() -> list[tuple[tuple[str, ...], str, bool, str]]:
    """(the section's channels, status, struck through, the row's test column)."""
    found, channels = [], ()
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            channels = (
                vocab.MESSAGE_CHANNELS
                if title == EVERY
                else tuple(c.strip() for c in title.split(","))
            )
            if title != EVERY and not set(channels) <= set(vocab.MESSAGE_CHANNELS):
                channels = ()  # prose sections
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not channels or len(cells) != 3 or not cells[0].startswith(("`", "~~")):
            continue
        struck = cells[0].startswith("~~")
        for status in re.findall(r"`(\w+)`", cells[0]):
            found.append((channels, status, struck, cells[2]))
    return found


def test_every_pair_of_the_vocabulary_has_a_producer_and_no_other():
    documented = {
        (channel, status)
        for channels, status, struck, _ in rows()
        if not struck
        for channel in channels
    }
    vocabulary = {
        (channel, status)
        for channel in vocab.MESSAGE_CHANNELS
        for status in vocab.ACTIVITY_TYPES[channel]
    }
    assert documented == vocabulary


def test_a_dropped_status_is_not_in_the_vocabulary():
    dropped = [(c, s) for cs, s, struck, _ in rows() if struck for c in cs]
    assert dropped and all(s not in vocab.ACTIVITY_TYPES[c] for c, s in dropped)


def test_every_test_named_exists():
    defined = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.MULTILINE))
    # `test_name` or `tests/x/test_module.py::test_name`; a module alone names no test.
    named = {n for *_, tests in rows() for n in re.findall(r"`(?:[\w/.]+::)?(test_\w+)`", tests)}
    assert named and named <= defined, named - defined
