"""Telegram through the Bot API: POST {base_url}/bot{token}/sendMessage. A chat that
does not exist or blocked the bot (400/403) is a permanent `failed`. The Bot API answers
`ok` with the message once it is in the chat, and sends no receipt later (nor says when
it is read): that answer is `delivered` too (`accepted_is_delivered`)."""

from __future__ import annotations

from services.messaging.senders.providers import TemporaryFailure
from services.messaging.senders.providers.http import judge, post


class TelegramProvider:
    name = "telegram"
    accepted_is_delivered = True

    def __init__(self, settings: dict):
        self.base_url = str(settings.get("base_url") or "https://api.telegram.org").rstrip("/")
        self.token = str(settings.get("token") or "")
        self.timeout = float(settings.get("timeout") or 10)

    def send(self, delivery: dict) -> str:
        status, answer = post(
            f"{self.base_url}/bot{self.token}/sendMessage",
            json_body={"chat_id": delivery["to"], "text": delivery["content"]["body"]},
            timeout=self.timeout,
        )
        judge(status, "failed", str(answer.get("description") or ""))
        result = answer.get("result") or {}
        if not answer.get("ok") or "message_id" not in result:
            raise TemporaryFailure(f"HTTP {status} without a message_id")
        return f"{delivery['to']}:{result['message_id']}"
