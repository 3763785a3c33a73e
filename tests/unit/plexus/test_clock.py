"""plexus.clock: the real time, shifted by the seconds in PLEXUS_CLOCK_FILE, read at
each call; no file, an empty one or nonsense: no shift."""

from datetime import timedelta

from plexus import clock
from plexus.timeutil import utcnow


def test_the_file_moves_now_at_the_next_call(tmp_path, monkeypatch):
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(path))
    assert abs(clock.now() - utcnow()) < timedelta(seconds=1)  # no file yet
    path.write_text("7200\n")
    assert abs(clock.now() - utcnow() - timedelta(hours=2)) < timedelta(seconds=1)
    path.write_text("-60")
    assert abs(clock.now() - utcnow() + timedelta(minutes=1)) < timedelta(seconds=1)
    for nonsense in ("", "soon"):
        path.write_text(nonsense)
        assert abs(clock.now() - utcnow()) < timedelta(seconds=1)


def test_unset_is_the_real_time(monkeypatch):
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    assert clock.offset_seconds() == 0.0
