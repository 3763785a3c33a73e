"""Email through any SMTP server (smtplib): one connection a message. The message
carries List-Unsubscribe with the one-click URL and List-Unsubscribe-Post (RFC 8058),
and X-Plexus-Message-Id for bounce processing.

TLS (`tls`): `implicit` (SMTPS, port 465: TLS from the first byte), `starttls` (upgrade
on the submission port; a server that does not offer it is a failure, never a fallback
to clear text) or `none` (a relay on the same host). Either TLS checks the server's
certificate and name against the system's CAs, or `ca_file`'s. A login is never sent in
clear: a user with `tls: none` stops the sender at start."""

from __future__ import annotations

import smtplib
import ssl
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


IMPLICIT, STARTTLS, NONE = "implicit", "starttls", "none"
SMTPS_PORT = 465


def tls_mode(settings: dict, port: int) -> str:
    """`tls` as configured; unset: implicit on 465, else starttls if the older
    `starttls` flag is on, else none."""
    mode = str(settings.get("tls") or "").strip().lower()
    if not mode:
        if port == SMTPS_PORT:
            return IMPLICIT
        flag = str(settings.get("starttls") or "").lower() in ("1", "true", "yes")
        return STARTTLS if flag else NONE
    if mode not in (IMPLICIT, STARTTLS, NONE):
        raise ValueError(f"PLEXUS_SMTP_TLS is {mode!r}: one of implicit, starttls, none")
    return mode


class SmtpProvider:
    name = "smtp"

    def __init__(self, settings: dict):
        self.host = str(settings.get("host") or "127.0.0.1")
        self.port = int(settings.get("port") or 25)
        self.user = str(settings.get("user") or "")
        self.password = str(settings.get("password") or "")
        self.sender = str(settings.get("from") or "Plexus <noreply@plexus.local>")
        self.tls = tls_mode(settings, self.port)
        self.timeout = float(settings.get("timeout") or 30)
        if self.user and self.tls == NONE:
            raise ValueError(
                "PLEXUS_SMTP_USER is set but PLEXUS_SMTP_TLS is none: a "
                "password is never sent in clear; use starttls or implicit"
            )
        self.context = None
        if self.tls != NONE:
            # Verifies the certificate chain and that it names `host`.
            self.context = ssl.create_default_context(cafile=settings.get("ca_file") or None)

    def _connect(self) -> smtplib.SMTP:
        if self.tls == IMPLICIT:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context
            )
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.tls == STARTTLS:
            try:
                smtp.starttls(context=self.context)
            except BaseException:
                smtp.close()
                raise
        return smtp

    def send(self, delivery: dict) -> str:
        email = build_email(delivery, self.sender)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _failure(code, text) from None
        except smtplib.SMTPResponseException as error:
            raise _failure(error.smtp_code, error.smtp_error) from None
        except ssl.SSLCertVerificationError as error:
            raise TemporaryFailure(
                f"SMTP {self.host}:{self.port}: the server's certificate "
                f"is refused: {error.verify_message}"[:500]
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(
                f"SMTP {self.host}:{self.port}: {type(error).__name__}"
            ) from None
        return email["Message-ID"]


def _failure(code: int, text) -> Exception:
    """5xx: the server will never take it (a hard bounce); 4xx: try again later."""
    reason = f"SMTP {code}: {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if 500 <= code < 600:
        return PermanentFailure("hard_bounce", reason[:500])
    return TemporaryFailure(reason[:500])
