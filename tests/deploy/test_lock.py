"""The locks are what pyproject.toml asks for: every exact pin there is in the lock that
installs it, at that version, and every locked package carries its hashes (pip then
refuses anything else: `--require-hashes`)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    found = (re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", r) for r in requirements)
    return {canonical(m.group(1)): m.group(2) for m in found if m}


def locked(name: str) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a lock file."""
    text = (ROOT / name).read_text()
    entries = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)((?:\s*\\\n\s+--hash=\S+)*)", text, re.M)
    return {canonical(n): (v, hashes.count("--hash=")) for n, v, hashes in entries}


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [
        ("requirements-test.lock", PROJECT["dependencies"] + EXTRAS["test"]),
        ("requirements.lock", PROJECT["dependencies"] + EXTRAS["postgres"]),
    ],
)
def test_every_pin_is_locked_at_its_version_with_hashes(lock, wanted):
    entries = locked(lock)
    assert entries, f"{lock} lists nothing"
    for name, version in pins(wanted).items():
        assert entries.get(name, (None,))[0] == version, f"{name} in {lock}: run make lock"
    assert all(count > 0 for _, count in entries.values())


def test_the_image_builds_the_driver_and_tests_use_the_wheel():
    assert "psycopg2" in locked("requirements.lock")
    assert "psycopg2-binary" not in locked("requirements.lock")
    assert "psycopg2-binary" in locked("requirements-test.lock")
