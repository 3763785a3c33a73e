"""SMS through a Twilio-style HTTP API: a form POST to
{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json with basic auth, answering
the message `sid`; delivery receipts come back to /webhooks/twilio."""

from __future__ import annotations

from services.messaging.senders.providers import TemporaryFailure
from services.messaging.senders.providers.http import judge, post


class TwilioProvider:
    name = "twilio"

    def __init__(self, settings: dict):
        self.base_url = str(settings.get("base_url") or "https://api.twilio.com").rstrip("/")
        self.account_sid = str(settings.get("account_sid") or "")
        self.auth_token = str(settings.get("auth_token") or "")
        self.sender = str(settings.get("from") or "")
        self.status_callback = str(settings.get("status_callback_url") or "")
        self.timeout = float(settings.get("timeout") or 10)

    def send(self, delivery: dict) -> str:
        form = {"To": delivery["to"], "From": self.sender, "Body": delivery["content"]["body"]}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        status, answer = post(
            url, form=form, basic_auth=(self.account_sid, self.auth_token), timeout=self.timeout
        )
        judge(status, "reject", str(answer.get("message") or answer.get("code") or ""))
        if not answer.get("sid"):
            raise TemporaryFailure(f"HTTP {status} without a message sid")
        return str(answer["sid"])
