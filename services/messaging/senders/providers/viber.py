"""Viber through the REST bot API: POST {base_url}/pa/send_message with the
X-Viber-Auth-Token header. Viber answers 200 with a `status` code of its own."""

from __future__ import annotations

from services.messaging.senders.providers import PermanentFailure, TemporaryFailure
from services.messaging.senders.providers.http import judge, post

# Viber status codes that end a message: not registered / not subscribed / no device
# (the receiver cannot get it), bad or missing data (we cannot send it as it is).
RECEIVER_GONE = {5, 6, 11}
BAD_MESSAGE = {3, 4}


class ViberProvider:
    name = "viber"

    def __init__(self, settings: dict):
        self.base_url = str(settings.get("base_url") or "https://chatapi.viber.com").rstrip("/")
        self.token = str(settings.get("token") or "")
        self.sender_name = str(settings.get("sender_name") or "Plexus")
        self.timeout = float(settings.get("timeout") or 10)

    def send(self, delivery: dict) -> str:
        status, answer = post(
            f"{self.base_url}/pa/send_message",
            headers={"X-Viber-Auth-Token": self.token},
            json_body={
                "receiver": delivery["to"],
                "type": "text",
                "text": delivery["content"]["body"],
                "sender": {"name": self.sender_name},
            },
            timeout=self.timeout,
        )
        judge(status, "fail", str(answer.get("status_message") or ""))
        code, text = answer.get("status"), str(answer.get("status_message") or "")
        if code in RECEIVER_GONE:
            raise PermanentFailure("fail", f"viber status {code}: {text}")
        if code in BAD_MESSAGE:
            raise PermanentFailure("reject", f"viber status {code}: {text}")
        if code != 0 or not answer.get("message_token"):
            raise TemporaryFailure(f"viber status {code}: {text}")
        return str(answer["message_token"])
