"""The embedded default: each message becomes a JSON file under the outbox directory
(var/outbox/<channel>/<contact id>/<message id>.json), so `make run` works with no
provider and a developer can read what would have been sent. The files of an erased
contact are deleted with its folder (`forget`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from plexus.private_files import write_private


class OutboxProvider:
    name = "outbox"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def send(self, delivery: dict) -> str:
        path = (
            self.directory
            / delivery["channel"]
            / delivery["contact_id"]
            / f"{delivery['message_id']}.json"
        )
        # Owner-only (the message holds the contact's address), whole or not at all.
        write_private(path, json.dumps(delivery, ensure_ascii=False, indent=2))
        return f"outbox:{delivery['message_id']}"

    def forget(self, contact_ids: list[str]) -> None:
        """Erasure: delete every file kept for these contacts, on every channel."""
        if not self.directory.is_dir():
            return
        for channel in self.directory.iterdir():
            for contact_id in contact_ids:
                # Ids come from our own events; a name with a separator is none of ours.
                if contact_id and "/" not in contact_id and contact_id not in (".", ".."):
                    shutil.rmtree(channel / contact_id, ignore_errors=True)
