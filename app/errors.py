"""Domain errors: a message a person understands, the HTTP status, and optionally the form field."""
from __future__ import annotations


class PortalError(Exception):
    status = 400
    error = "BadRequest"  # Polar's error name for the JSON API

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NotFound(PortalError):
    status = 404
    error = "ResourceNotFound"


class NotPermitted(PortalError):
    status = 403
    error = "NotPermitted"


class Unauthorized(PortalError):
    status = 401
    error = "Unauthorized"


class RuleViolation(PortalError):
    """A request that is well formed but breaks a business rule (Polar answers these with 422)."""

    status = 422
    error = "PolarRequestValidationError"


class RateLimited(PortalError):
    status = 429
    error = "TooManyRequests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class InvalidToken(PortalError):
    """A sign-in link, code or invitation that cannot be used; `reason` says why."""

    status = 400

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason  # expired | used | unknown | revoked
