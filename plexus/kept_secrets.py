"""Secrets a deployment may leave unset: made once on first use and kept in a file under
DATA_DIR, so that `make run` works with no setup and every process of one machine
agrees. A deployment of several machines sets them (config.yaml, the environment)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from plexus.config import data_dir


def kept_secret(config: dict, name: str, make) -> str:
    """The secret in DATA_DIR/<name>, made with `make()` on first use."""
    path = Path(data_dir(config)) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        draft.write_text(make())
        draft.chmod(0o600)
        # link() fails if another process made it first: then every process reads theirs.
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()
