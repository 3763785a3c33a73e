"""Errors that cross the RPC boundary. Registered with nameko so the caller gets the
same exception class back (not a RemoteError), carrying what the HTTP answer needs.

Each maps to one HTTP status in the gateway (services.gateway.web.problems)."""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class PlexusError(Exception):
    """Base: `detail` is a sentence for people, `errors` maps field paths to messages."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", errors: dict | None = None):
        super().__init__(detail, errors or {})
        self.detail = detail
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.detail


@deserialize_to_instance
class Invalid(PlexusError):
    status = 422
    title = "Validation failed"


@deserialize_to_instance
class NotFound(PlexusError):
    status = 404
    title = "Not found"


@deserialize_to_instance
class Conflict(PlexusError):
    status = 409
    title = "Conflict"


@deserialize_to_instance
class Gone(PlexusError):
    """It was there and is no more: an expired link."""

    status = 410
    title = "Gone"


@deserialize_to_instance
class Unavailable(PlexusError):
    """A backing part (database, broker, another service) did not answer in time."""

    status = 503
    title = "Service unavailable"


EXPECTED_ERRORS = (Invalid, NotFound, Conflict, Gone, Unavailable)
