"""The push services a browser's Web Push subscription may point at.

A subscription's endpoint is a URL the API client hands us, and the webpush sender POSTs
to it: left open, that is a way to make Plexus call any address it can reach (the cloud's
metadata service, the broker's management port, a service inside the cluster) and to
read the answer in the message's history. So an endpoint must be on an allowed push
service: contacts refuses any other (422 naming `endpoint`), and the sender pushes to no
other, whatever was stored before.

config.yaml's WEBPUSH_PUSH_SERVICES lists them, comma-separated; each entry is
- a host, `fcm.googleapis.com`: https on the default port only;
- a wildcard, `*.notify.windows.com`: any host under that domain (not the domain itself),
  https on the default port only;
- an origin, `http://127.0.0.1:8700`: that scheme, host and port exactly, for a push
  service of your own (or a test's).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

# The push services today's browsers subscribe with: Chrome, Edge and Opera (FCM),
# Firefox (Mozilla autopush), Edge on Windows (WNS), Safari (Apple).
DEFAULT = (
    "fcm.googleapis.com,updates.push.services.mozilla.com,*.notify.windows.com,*.push.apple.com"
)
CONFIG_KEY = "WEBPUSH_PUSH_SERVICES"
DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: urllib.parse.SplitResult) -> tuple[str, str, int] | None:
    try:
        port = url.port
    except ValueError:  # a port out of range or not a number
        return None
    host = (url.hostname or "").rstrip(".").lower()
    if url.scheme not in DEFAULT_PORTS or not host:
        return None
    return url.scheme, host, port or DEFAULT_PORTS[url.scheme]


@dataclass(frozen=True)
class PushServices:
    hosts: frozenset[str]  # exact hosts, https:443
    domains: tuple[str, ...]  # ".notify.windows.com": hosts under it, https:443
    origins: frozenset[tuple[str, str, int]]  # (scheme, host, port) as configured

    @classmethod
    def parse(cls, text: str) -> PushServices:
        hosts, domains, origins = set(), [], set()
        for entry in (part.strip().lower() for part in str(text or "").split(",")):
            if not entry:
                continue
            if "://" in entry:
                origin = _origin(urllib.parse.urlsplit(entry))
                if origin is None:
                    raise ValueError(f"{CONFIG_KEY}: {entry!r} is not an http(s) origin")
                origins.add(origin)
            elif entry.startswith("*."):
                domains.append(entry[1:])
            else:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(domains), frozenset(origins))

    @classmethod
    def from_config(cls, config) -> PushServices:
        configured = config.get(CONFIG_KEY)
        return cls.parse(DEFAULT if configured is None else configured)

    def refusal(self, endpoint: str) -> str | None:
        """Why `endpoint` may not be pushed to, or None when it may."""
        try:
            url = urllib.parse.urlsplit(str(endpoint))
        except ValueError:
            return "is not a URL"
        origin = _origin(url)
        if origin is None:
            return "must be an https URL"
        if url.username is not None or url.password is not None:
            return "must not carry a user name or password"
        if origin in self.origins:
            return None
        scheme, host, port = origin
        known = host in self.hosts or any(host.endswith(domain) for domain in self.domains)
        if not known:
            return (
                f"{host} is not an allowed push service (config.yaml "
                f"{CONFIG_KEY}, PLEXUS_{CONFIG_KEY})"
            )
        if (scheme, port) != ("https", 443):
            return "must be an https URL on the default port"
        return None
