"""Local stand-ins for the messaging providers, speaking their real protocols, run as a
process of their own (`python -m tests.fake_providers --dir D ...`) so that neither
asyncio nor the HTTP server shares the eventlet-patched test process.

- SMTP (aiosmtpd): every message is kept as <dir>/smtp/<n>.eml; `--smtp-latency`
  delays each DATA answer (the bench's slow provider). A recipient at
  bounce.example is refused with 550 (a hard bounce). With `--tls-cert`/`--tls-key`
  (a certificate the test's own CA signed), `--starttls-port` serves a server that
  takes no mail and no login before STARTTLS and `--smtps-port` one speaking TLS from
  the first byte (465-style); both take the login `--smtp-login USER:PASSWORD`.
- HTTP, one server for three APIs; each request is appended to <dir>/http.jsonl:
  Twilio-style  POST /2010-04-01/Accounts/<sid>/Messages.json (form, basic auth)
  Telegram      POST /bot<token>/sendMessage (JSON)
  Viber         POST /pa/send_message (JSON, X-Viber-Auth-Token)
  A message whose text holds "[flaky]" is answered 503 twice, then accepted.
  Telegram chat 404 does not exist (400); Viber receiver "gone" is status 6 and
  "badmsg" status 3 (bad data: `reject`).
- Web Push, on the same HTTP server: POST /push/<id> for a subscription the test made
  with new_push_subscription() (a real P-256 key pair and auth secret, as a browser
  makes them, kept in <dir>/push/<id>.json). The push service checks the VAPID
  Authorization (RFC 8292: `vapid t=<JWT>, k=<key>`, the ES256 signature by that key,
  aud the endpoint's origin, exp within 24 hours, the key the subscription was made
  with: else 401/403), decrypts the aes128gcm body (RFC 8291) and appends what it read
  to <dir>/push.jsonl; a subscription made with answer=410 is gone.
- FCM HTTP v1 and Google's OAuth token endpoint, on the same HTTP server: a test makes
  a service account with new_service_account() (a real RSA key pair; the key file as
  Google's console gives it, its token_uri this server's /oauth2/token). The token
  endpoint checks the JWT bearer grant (RS256 by the account's key, iss, scope, aud,
  iat/exp an hour at most) and issues an access token; POST
  /v1/projects/<project>/messages:send checks the bearer token (401 UNAUTHENTICATED),
  the message's shape (400 INVALID_ARGUMENT) and answers `{"name"}`, appending the
  message to <dir>/fcm.jsonl. A device token starting "dead" is 404 UNREGISTERED, one
  starting "busy" 503 UNAVAILABLE.
- Webhooks as the providers send them: relay_webhook() (our SMTP relay's bounce,
  signed over `<timestamp>.<body>`) and viber_callback() (a receipt with its timestamp,
  signed over the body).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from services.messaging.logic.signatures import hex_hmac_sha256, relay_signature

FLAKY_FAILURES = 2


class Recorder:
    def __init__(self, directory: Path):
        self.directory = directory
        (directory / "smtp").mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        self.flaky: dict[str, int] = {}

    def http(self, entry: dict) -> None:
        with self.lock, open(self.directory / "http.jsonl", "a") as handle:
            handle.write(json.dumps(entry) + "\n")

    def flaky_failure(self, text: str) -> bool:
        """True for the first FLAKY_FAILURES tries of a "[flaky]" text."""
        if "[flaky]" not in text:
            return False
        with self.lock:
            self.flaky[text] = self.flaky.get(text, 0) + 1
            return self.flaky[text] <= FLAKY_FAILURES


class SmtpHandler:
    def __init__(self, recorder: Recorder, latency: float):
        self.recorder, self.latency = recorder, latency

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address.endswith("@bounce.example"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.latency:
            await asyncio.sleep(self.latency)
        number = next(self.recorder.counter)
        path = self.recorder.directory / "smtp" / f"{number:06d}.eml"
        partial = path.with_suffix(".partial")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(path)
        return "250 Message accepted"


def relay_webhook(secret: str, event: dict, at: float | None = None) -> tuple[bytes, dict]:
    """(body, headers) of the SMTP relay's POST /webhooks/smtp for `event`
    ({"message_id" or "provider_id", "event", "reason"}), signed at `at` (now)."""
    body = json.dumps(event).encode()
    timestamp = str(int(time.time() if at is None else at))
    return body, {
        "Content-Type": "application/json",
        "X-Plexus-Timestamp": timestamp,
        "X-Plexus-Signature": relay_signature(secret, timestamp, body),
    }


def viber_callback(
    token: str, event: str, message_token: int, at: float | None = None
) -> tuple[bytes, dict]:
    """(body, headers) of a Viber delivery callback, as Viber signs it with the bot's
    auth token; `timestamp` is Viber's, in milliseconds."""
    body = json.dumps(
        {
            "event": event,
            "message_token": message_token,
            "timestamp": int((time.time() if at is None else at) * 1000),
        }
    ).encode()
    return body, {"X-Viber-Content-Signature": hex_hmac_sha256(token, body)}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_push_subscription(
    directory: Path, base_url: str, application_key: str, device: str = "desktop", answer: int = 201
) -> dict:
    """What a browser's pushManager.subscribe({applicationServerKey}) gives, as the body
    of POST /v1/contacts/{id}/channels/webpush; the private half stays with the fake."""
    browser_key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    subscription_id = b64url(os.urandom(12))
    (directory / "push").mkdir(parents=True, exist_ok=True)
    (directory / "push" / f"{subscription_id}.json").write_text(
        json.dumps(
            {
                "private_key": browser_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
                "auth": b64url(auth),
                "application_key": application_key,
                "answer": answer,
            }
        )
    )
    public = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": f"{base_url}/push/{subscription_id}",
        "device": device,
        "keys": {"p256dh": b64url(public), "auth": b64url(auth)},
    }


def pushes(directory: Path) -> list[dict]:
    """What the push service decrypted so far, oldest first."""
    path = directory / "push.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def verify_vapid(authorization: str, audience: str) -> tuple[dict, str]:
    """(the JWT claims, the public key) of a valid VAPID header; ValueError otherwise."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"scheme {scheme!r}, not vapid")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    head, body, signature = fields["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64url_decode(fields["k"])
    )
    raw = b64url_decode(signature)
    if len(raw) != 64:
        raise ValueError("an ES256 signature is 64 bytes (r || s)")
    try:
        public.verify(
            encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
            f"{head}.{body}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except Exception:
        raise ValueError("bad JWT signature") from None
    if json.loads(b64url_decode(head)).get("alg") != "ES256":
        raise ValueError("JWT alg is not ES256")
    claims = json.loads(b64url_decode(body))
    if claims.get("aud") != audience:
        raise ValueError(f"aud {claims.get('aud')!r}, not {audience!r}")
    if not time.time() < claims.get("exp", 0) <= time.time() + 86400:
        raise ValueError("exp not within the next 24 hours")
    return claims, fields["k"]


class PushService:
    """The push service side of POST /push/<id>: (status, headers, error text)."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder

    def receive(self, subscription_id: str, headers, body: bytes, origin: str):
        path = self.recorder.directory / "push" / f"{subscription_id}.json"
        if not path.exists():
            return 404, {}, "no such subscription"
        subscription = json.loads(path.read_text())
        try:
            claims, key = verify_vapid(headers.get("Authorization") or "", origin)
        except (ValueError, KeyError) as error:
            return 401, {}, f"VAPID: {error}"
        if key != subscription["application_key"]:
            return 403, {}, "subscribed with another application server key"
        if subscription["answer"] == 410:
            return 410, {}, "subscription expired"
        if headers.get("Content-Encoding") != "aes128gcm" or not headers.get("TTL"):
            return 400, {}, "aes128gcm body and TTL required"
        browser_key = serialization.load_pem_private_key(
            subscription["private_key"].encode(), password=None
        )
        plaintext = http_ece.decrypt(
            body,
            private_key=browser_key,
            auth_secret=b64url_decode(subscription["auth"]),
            version="aes128gcm",
        )
        with self.recorder.lock, open(self.recorder.directory / "push.jsonl", "a") as handle:
            handle.write(
                json.dumps(
                    {
                        "subscription": subscription_id,
                        "claims": claims,
                        "ttl": headers["TTL"],
                        "payload": json.loads(plaintext),
                    }
                )
                + "\n"
            )
        return 201, {"Location": f"{origin}/message/{next(self.recorder.counter)}"}, ""


FCM_PROJECT = "plexus-test"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_ACCOUNT = "plexus-sender@plexus-test.iam.gserviceaccount.com"


def new_service_account(directory: Path, base_url: str) -> Path:
    """A service account's key file (what Google's console downloads) whose token_uri is
    the fake's; the fake checks assertions against the public half it keeps."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "fcm").mkdir(parents=True, exist_ok=True)
    (directory / "fcm" / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    path = directory / "fcm" / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": FCM_PROJECT,
                "private_key_id": "k1",
                "private_key": key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
                "client_email": FCM_ACCOUNT,
                "token_uri": f"{base_url}/oauth2/token",
            }
        )
    )
    return path


def fcm_messages(directory: Path) -> list[dict]:
    """The messages the fake FCM accepted, oldest first."""
    path = directory / "fcm.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def verify_assertion(assertion: str, public_pem: bytes, audience: str) -> dict:
    """The claims of a valid JWT bearer grant; ValueError naming what is wrong."""
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
    except ValueError as error:
        raise ValueError(f"not a JWT: {error}") from None
    if header.get("alg") != "RS256":
        raise ValueError("alg must be RS256")
    public = serialization.load_pem_public_key(public_pem)
    try:
        public.verify(
            b64url_decode(signature_b64),
            f"{header_b64}.{claims_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except Exception:
        raise ValueError("invalid signature") from None
    now = time.time()
    if claims.get("iss") != FCM_ACCOUNT:
        raise ValueError("iss is not the service account")
    if claims.get("scope") != FCM_SCOPE:
        raise ValueError("scope is not firebase.messaging")
    if claims.get("aud") != audience:
        raise ValueError(f"aud is not {audience}")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise ValueError("iat and exp must be integers")
    if not (iat - 300 <= now < exp) or exp - iat > 3600:
        raise ValueError("expired, or valid for more than an hour")
    return claims


def fcm_error(code: int, status: str, message: str, error_code: str | None = None) -> dict:
    error = {"code": code, "message": message, "status": status}
    if error_code:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": error_code,
            }
        ]
    return {"error": error}


def fcm_shape_error(body) -> str | None:
    """What is wrong with an FCM send body, as FCM would refuse it; None when fine."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or set(body) != {"message"}:
        return "the body must be {'message': {...}}"
    if not isinstance(message.get("token"), str) or not message["token"]:
        return "message.token is required"
    notification = message.get("notification") or {}
    if not isinstance(notification, dict) or set(notification) - {"title", "body"}:
        return "message.notification holds title and body only"
    if not all(isinstance(value, str) for value in notification.values()):
        return "message.notification's title and body are strings"
    data = message.get("data") or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return "message.data's values must be strings"
    return None


class Fcm:
    """Google's token endpoint and FCM's send API: (status, answer) for each."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.access_tokens: set[str] = set()

    def token(self, form: dict, audience: str):
        public_path = self.recorder.directory / "fcm" / "public.pem"
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            verify_assertion(form.get("assertion") or "", public_path.read_bytes(), audience)
        except (ValueError, OSError) as error:
            return 400, {"error": "invalid_grant", "error_description": str(error)}
        token = f"ya29.{b64url(os.urandom(24))}"
        with self.recorder.lock:
            self.access_tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def send(self, path: str, authorization: str, body):
        project = path.removeprefix("/v1/projects/").removesuffix("/messages:send")
        if project != FCM_PROJECT:
            return 404, fcm_error(404, "NOT_FOUND", f"no project {project}")
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.access_tokens:
            return 401, fcm_error(401, "UNAUTHENTICATED", "invalid authentication credentials")
        problem = fcm_shape_error(body)
        if problem:
            return 400, fcm_error(400, "INVALID_ARGUMENT", problem, "INVALID_ARGUMENT")
        device = body["message"]["token"]
        if device.startswith("dead"):
            return 404, fcm_error(
                404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"
            )
        if device.startswith("busy"):
            return 503, fcm_error(503, "UNAVAILABLE", "The service is unavailable.", "UNAVAILABLE")
        name = f"projects/{project}/messages/{next(self.recorder.counter)}"
        with self.recorder.lock, open(self.recorder.directory / "fcm.jsonl", "a") as handle:
            handle.write(json.dumps({"name": name, **body}) + "\n")
        return 200, {"name": name}


def make_http_handler(recorder: Recorder):
    push_service = PushService(recorder)
    fcm = Fcm(recorder)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            if self.path.startswith("/push/"):
                return self._push()
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = "form-urlencoded" in (self.headers.get("Content-Type") or "")
            body = dict(urllib.parse.parse_qsl(raw)) if form else json.loads(raw or "{}")
            recorder.http(
                {"path": self.path, "headers": dict(self.headers), "body": body, "at": time.time()}
            )
            if self.path.startswith("/2010-04-01/Accounts/"):
                return self._twilio(body)
            if self.path.endswith("/sendMessage"):
                return self._telegram(body)
            if self.path == "/pa/send_message":
                return self._viber(body)
            if self.path == "/oauth2/token":
                origin = f"http://{self.headers['Host']}"
                return self._answer(*fcm.token(body, f"{origin}/oauth2/token"))
            if self.path.startswith("/v1/projects/"):
                return self._answer(
                    *fcm.send(self.path, self.headers.get("Authorization") or "", body)
                )
            return self._answer(404, {"message": "no such API"})

        def _push(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            origin = f"http://{self.headers['Host']}"
            status, headers, error = push_service.receive(
                self.path.removeprefix("/push/"), self.headers, body, origin
            )
            if error:
                recorder.http(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": {"error": error},
                        "at": time.time(),
                    }
                )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _twilio(self, body):
            user = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
            if not user.partition(":")[2]:
                return self._answer(401, {"code": 20003, "message": "Authenticate"})
            if recorder.flaky_failure(body.get("Body", "")):
                return self._answer(503, {"message": "try later"})
            if not body.get("To", "").startswith("+"):
                return self._answer(400, {"code": 21211, "message": "invalid To number"})
            return self._answer(201, {"sid": f"SM{time.time_ns():x}", "status": "queued"})

        def _telegram(self, body):
            if recorder.flaky_failure(body.get("text", "")):
                return self._answer(502, {"ok": False, "description": "Bad Gateway"})
            if str(body.get("chat_id")) == "404":
                return self._answer(
                    400,
                    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
                )
            return self._answer(
                200,
                {
                    "ok": True,
                    "result": {
                        "message_id": time.time_ns() % 10**9,
                        "chat": {"id": body["chat_id"]},
                    },
                },
            )

        def _viber(self, body):
            if recorder.flaky_failure(body.get("text", "")):
                return self._answer(503, {})
            if body.get("receiver") == "gone":
                return self._answer(200, {"status": 6, "status_message": "notSubscribed"})
            if body.get("receiver") == "badmsg":
                return self._answer(200, {"status": 3, "status_message": "badData"})
            return self._answer(
                200, {"status": 0, "status_message": "ok", "message_token": time.time_ns()}
            )

    return Handler


def tls_servers(args, recorder: Recorder) -> list:
    """The STARTTLS and implicit-TLS servers the arguments ask for (not started)."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    if not args.tls_cert:
        return []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    user, _, password = args.smtp_login.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(
            success=isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )

    handler = SmtpHandler(recorder, 0.0)
    common = {"hostname": "127.0.0.1", "authenticator": authenticate, "auth_required": bool(user)}
    servers = []
    if args.starttls_port:
        servers.append(
            Controller(
                handler,
                port=args.starttls_port,
                tls_context=context,
                require_starttls=True,
                auth_require_tls=True,
                **common,
            )
        )
    if args.smtps_port:
        # TLS from the first byte: aiosmtpd's auth_require_tls knows only STARTTLS.
        servers.append(
            Controller(
                handler,
                port=args.smtps_port,
                ssl_context=context,
                server_hostname="localhost",
                auth_require_tls=False,
                **common,
            )
        )
    return servers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--smtp-latency", type=float, default=0.0)
    parser.add_argument("--tls-cert", type=Path)
    parser.add_argument("--tls-key", type=Path)
    parser.add_argument("--starttls-port", type=int, default=0)
    parser.add_argument("--smtps-port", type=int, default=0)
    parser.add_argument("--smtp-login", default="")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    recorder = Recorder(args.dir)
    smtp = Controller(
        SmtpHandler(recorder, args.smtp_latency), hostname="127.0.0.1", port=args.smtp_port
    )
    smtp.start()
    for server in tls_servers(args, recorder):
        server.start()
    if args.http_port:
        server = ThreadingHTTPServer(("127.0.0.1", args.http_port), make_http_handler(recorder))
        threading.Thread(target=server.serve_forever, daemon=True).start()
    (args.dir / "ready").write_text("ok")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        smtp.stop()


if __name__ == "__main__":
    main()
