"""Files that hold contacts' data (SQLite databases, the outbox provider's messages) are
readable by their owner alone: made 0600, in directories made 0700, whatever the umask.
Only what is made here is set: an operator's own permissions on existing paths stand."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_dir(path: Path | str) -> Path:
    """The directory, made (with any missing parent) owner-only if it is not there."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(folder, DIRECTORY_MODE)  # mkdir's mode is masked by the umask
    return path


def create_private(path: Path | str) -> Path:
    """An empty owner-only file, unless the file is there already."""
    path = Path(path)
    private_dir(path.parent)
    # O_CREAT without O_TRUNC: an existing file is left as it is, mode and all.
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    return path


def write_private(path: Path | str, text: str) -> Path:
    """Write `text` to an owner-only file in one step: a reader sees the old file or the
    whole new one, never half of it."""
    path = Path(path)
    private_dir(path.parent)
    draft = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(draft, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(draft, path)
    return path
