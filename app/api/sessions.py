"""Member sessions: minted by the vendor (`POST /v1/customer-sessions/`), or by the member with an
emailed code (`/v1/customer-portal/customer-session/request|authenticate`); and who is signed in
(`introspect`, `user`)."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy import select

from ..errors import InvalidToken, NotFound, PortalError
from ..extensions import db
from ..ratelimits import client_limit
from ..models import Member as MemberRow
from ..models import Organization, Role
from ..services import members as member_service
from ..services import sessions as session_service
from ..services import signin
from . import bp
from .auth import member, org
from .customers import customer_by_external_id, customer_by_id
from .errors import ApiError, issue, validation_error
from .routing import operation
from .schemas import (
    Customer,
    CustomerCustomerSession,
    CustomerSelectionRequired,
    CustomerSession,
    CustomerSessionCodeAuthenticate,
    CustomerSessionCodeAuthenticateResponse,
    CustomerSessionCodeRequest,
    CustomerSessionCreate,
    PortalAuthenticatedUser,
)


def _not_there(field: str, message: str, value) -> ApiError:
    return validation_error([issue(["body", field], message, "value_error", value)])


def _session_member(customer, body: CustomerSessionCreate) -> MemberRow:
    """The member named in the body, or else the customer's owner."""
    try:
        if body.member_id is not None:
            return member_service.get_member(db.session, customer, body.member_id)
        if body.external_member_id is not None:
            return member_service.get_member_by_external_id(db.session, customer,
                                                            body.external_member_id)
    except NotFound:
        field = "member_id" if body.member_id is not None else "external_member_id"
        raise _not_there(field, "Member does not exist for this customer.",
                         getattr(body, field)) from None
    owner = db.session.scalar(select(MemberRow).where(
        MemberRow.customer_id == customer.id, MemberRow.role == Role.OWNER,
        MemberRow.deleted_at.is_(None)))
    if owner is None:
        raise _not_there("member_id", "This customer has no owner; name a member.", None)
    return owner


@operation(bp, "POST", "/customer-sessions/", "customer_sessions:create",
           also=("/customer-sessions",), tag="customer sessions",
           summary="Create a member session for the customer portal",
           auth=org("customer_sessions:write"), body=CustomerSessionCreate,
           response=CustomerSession, status=201, errors=(409,))
def create_customer_session(body: CustomerSessionCreate):
    """A one-hour `polar_mst_…` token for the customer-portal API, and `customer_portal_url`,
    which opens the portal signed in (once) and suits an iframe. Without `member_id` or
    `external_member_id` the session is the owner's. Scope: `customer_sessions:write`."""
    try:
        if body.customer_id is not None:
            customer = customer_by_id(body.customer_id)
        else:
            customer = customer_by_external_id(body.external_customer_id or "")
    except NotFound:
        field = "customer_id" if body.customer_id is not None else "external_customer_id"
        raise _not_there(field, "Customer does not exist.", getattr(body, field)) from None
    person = _session_member(customer, body)
    row, token, handoff = session_service.start_api_session(db.session, person,
                                                            return_url=body.return_url)
    url = session_service.portal_entry_url(current_app.config["BASE_URL"],
                                           customer.organization.slug, handoff)
    return CustomerSession(
        created_at=row.created_at, modified_at=row.modified_at, id=row.id, token=token,
        expires_at=row.expires_at, return_url=row.return_url, customer_portal_url=url,
        customer_id=customer.id, customer=Customer.from_row(customer),
    )


# --- sign-in with an emailed code ----------------------------------------------------------------

PORTAL_SESSION = "customer portal: session"


def _policy() -> signin.SignInPolicy:
    c = current_app.config
    return signin.SignInPolicy(token_minutes=c["SIGNIN_TOKEN_MINUTES"],
                               max_per_email=c["SIGNIN_MAX_PER_EMAIL"],
                               window_minutes=c["SIGNIN_WINDOW_MINUTES"])


@operation(bp, "POST", "/customer-portal/customer-session/request",
           "customer_portal:customer_session:request", tag=PORTAL_SESSION,
           summary="Email a sign-in code", auth=None, body=CustomerSessionCodeRequest,
           status=202, response=None, errors=(429,),
           decorators=(client_limit,))
def request_code(body: CustomerSessionCodeRequest):
    """Emails a sign-in link and code to the address if it belongs to a member of the
    organization. The answer is the same (202) whether or not it does. Rate-limited per email and
    per client (429 with `Retry-After` in seconds)."""
    signin.normalize_email(body.email)
    organization = db.session.get(Organization, body.organization_id)
    if organization is not None:
        signin.request_sign_in(db.session, organization, body.email,
                               base_url=current_app.config["BASE_URL"], policy=_policy())


def _code_invalid(message: str) -> ApiError:
    return ApiError(401, "CustomerSessionCodeInvalidOrExpired", message)


@operation(bp, "POST", "/customer-portal/customer-session/authenticate",
           "customer_portal:customer_session:authenticate", tag=PORTAL_SESSION,
           summary="Exchange the emailed code for a member session token", auth=None,
           body=CustomerSessionCodeAuthenticate, response=CustomerSessionCodeAuthenticateResponse,
           errors=(401, 403, 409, 429), other_statuses={409: CustomerSelectionRequired},
           decorators=(client_limit,))
def authenticate(body: CustomerSessionCodeAuthenticate):
    """The code is single use and tied to the email it was sent to. When the email belongs to
    members of several teams, the answer is 409 `customer_selection_required` with the teams; call
    again with the same code and `member_id` (or `customer_id`)."""
    organization = db.session.get(Organization, body.organization_id)
    if organization is None:
        raise _code_invalid("This code is invalid or has expired.")
    try:
        email = signin.verify_code(db.session, organization, body.email, body.code)
    except InvalidToken as exc:
        db.session.commit()  # keeps the count of wrong attempts
        raise _code_invalid(exc.message) from None
    choices = signin.live_members_for_email(db.session, organization, email)
    member_id = body.member_id
    if member_id is None and body.customer_id is not None:
        member_id = next((m.id for m in choices if m.customer_id == body.customer_id), "none")
    try:
        person = signin.choose_member(db.session, organization, email, member_id)
    except PortalError as exc:
        if exc.field != "member_id":
            db.session.commit()
            raise ApiError(403, "NotPermitted", exc.message) from None
        db.session.rollback()  # the code stays usable for the call that names the team
        raise ApiError(409, "customer_selection_required",
                       "Several teams use this email. Call again with one of their member_id.",
                       extra={"customers": [{"id": str(m.customer_id), "member_id": str(m.id),
                                             "name": m.customer.name} for m in choices]}) from None
    _row, token, _handoff = session_service.start_api_session(db.session, person)
    return CustomerSessionCodeAuthenticateResponse(token=token)


# --- who is signed in ----------------------------------------------------------------------------

@operation(bp, "GET", "/customer-portal/customer-session/introspect",
           "customer_portal:customer_session:introspect", tag=PORTAL_SESSION,
           summary="The current session", auth=member(), response=CustomerCustomerSession)
def introspect():
    """When the member session token expires, and where to send the member back."""
    row = g.portal_session
    return CustomerCustomerSession(expires_at=row.expires_at, return_url=row.return_url)


@operation(bp, "GET", "/customer-portal/customer-session/user",
           "customer_portal:customer_session:get_authenticated_user", tag=PORTAL_SESSION,
           summary="The signed-in member", auth=member(), response=PortalAuthenticatedUser)
def authenticated_user():
    """Who holds this member session token."""
    m = g.member
    return PortalAuthenticatedUser(type="member", name=m.name, email=m.email,
                                   customer_id=m.customer_id, member_id=m.id, role=m.role.value)
