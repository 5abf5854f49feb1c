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


# Seats (DESIGN.md rules 9-14). `error` is the Polar error name the JSON API answers with.

class NoSeatsAvailable(PortalError):
    """Every seat of the subscription is pending or claimed (rule 9). API: 400 SeatNotAvailable."""

    status = 400
    error = "SeatNotAvailable"


class SeatAlreadyAssigned(PortalError):
    """The email already holds a live seat on this subscription (rule 10). API: 400 SeatAlreadyAssigned."""

    status = 400
    error = "SeatAlreadyAssigned"


class SeatNotPending(PortalError):
    """Only a pending seat has an invitation to resend (rule 12). API: 400 SeatNotPending."""

    status = 400
    error = "SeatNotPending"


class InvalidInvitation(InvalidToken):
    """A claim link that cannot be used (rules 12-13). API: 400 InvalidInvitationToken
    (Polar answers the claim-info GET with 404 and the claim POST with 400).

    `reason`: expired | used | revoked | replaced (a newer link was sent) | unknown.
    `seat` is set when the link points at a seat; `can_request_new_link` when the link
    expired on a seat that is still pending, so the invitee may ask for a fresh one."""

    error = "InvalidInvitationToken"

    def __init__(self, message: str, *, reason: str, seat=None, can_request_new_link: bool = False):
        super().__init__(message, reason=reason)
        self.seat = seat
        self.can_request_new_link = can_request_new_link
