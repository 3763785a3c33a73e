"""Email through any SMTP server (smtplib): one connection a message, STARTTLS and
login when configured. The message carries List-Unsubscribe with the one-click URL and
List-Unsubscribe-Post (RFC 8058), and X-Plexus-Message-Id for bounce processing."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from services.messaging.senders.providers import PermanentFailure, TemporaryFailure


def build_email(delivery: dict, sender: str) -> EmailMessage:
    content = delivery["content"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery["to"]
    message["Subject"] = content.get("subject") or ""
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2].strip(">") or "plexus.local"
    message["Message-ID"] = make_msgid(idstring=delivery["message_id"], domain=domain)
    message["X-Plexus-Message-Id"] = delivery["message_id"]
    if delivery.get("unsubscribe_url"):
        message["List-Unsubscribe"] = f"<{delivery['unsubscribe_url']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(content.get("text") or "")
    if content.get("html"):
        message.add_alternative(content["html"], subtype="html")
    return message


class SmtpProvider:
    name = "smtp"

    def __init__(self, settings: dict):
        self.host = str(settings.get("host") or "127.0.0.1")
        self.port = int(settings.get("port") or 25)
        self.user = str(settings.get("user") or "")
        self.password = str(settings.get("password") or "")
        self.sender = str(settings.get("from") or "Plexus <noreply@plexus.local>")
        self.starttls = str(settings.get("starttls") or "").lower() in ("1", "true", "yes")
        self.timeout = float(settings.get("timeout") or 30)

    def send(self, delivery: dict) -> str:
        email = build_email(delivery, self.sender)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _failure(code, text) from None
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"SMTP {self.host}:{self.port}: {type(error).__name__}") \
                from None
        return email["Message-ID"]


def _failure(code: int, text) -> Exception:
    """5xx: the server will never take it (a hard bounce); 4xx: try again later."""
    reason = f"SMTP {code}: {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if 500 <= code < 600:
        return PermanentFailure("hard_bounce", reason[:500])
    return TemporaryFailure(reason[:500])
