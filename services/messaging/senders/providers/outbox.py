"""The embedded default: each message becomes a JSON file under the outbox directory
(var/outbox/<channel>/<message id>.json), so `make run` works with no provider and a
developer can read what would have been sent."""

from __future__ import annotations

import json
import os
from pathlib import Path


class OutboxProvider:
    name = "outbox"

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def send(self, delivery: dict) -> str:
        folder = self.directory / delivery["channel"]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{delivery['message_id']}.json"
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(delivery, ensure_ascii=False, indent=2))
        os.replace(partial, path)  # a reader never sees half a file
        return f"outbox:{delivery['message_id']}"
