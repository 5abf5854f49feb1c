"""The customer portal API for a signed-in member (`polar_mst_…`): their team's members and
their customer. Managing the team needs an owner or billing manager of a team customer (403
otherwise); the members service decides."""
from __future__ import annotations

from flask import g

from ..extensions import db
from ..models import Role
from ..services import members as member_service
from ..wire import avatar_url
from . import bp
from .auth import member
from .pagination import ListResource, PageQuery, listing
from .routing import operation
from .schemas import (
    CustomerPortalCustomer,
    CustomerPortalMember,
    CustomerPortalMemberCreate,
    CustomerPortalMemberUpdate,
    IdPath,
)

TAG = "customer portal: members"
MANAGE_ERRORS = (401, 403)


@operation(bp, "GET", "/customer-portal/members", "customer_portal:members:list_members", tag=TAG,
           summary="List the team's members", auth=member(), query=PageQuery,
           response=ListResource[CustomerPortalMember], errors=MANAGE_ERRORS)
def list_members(query: PageQuery):
    """Owners and billing managers of team customers only."""
    customer = g.member.customer
    page = member_service.list_members(db.session, g.actor, customer, page=query.page,
                                       limit=query.limit)
    return listing([CustomerPortalMember.from_row(m) for m in page.items], page.total, query.limit)


@operation(bp, "POST", "/customer-portal/members", "customer_portal:members:add_member", tag=TAG,
           summary="Add a member to the team", auth=member(), body=CustomerPortalMemberCreate,
           response=CustomerPortalMember, status=201, errors=MANAGE_ERRORS)
def add_member(body: CustomerPortalMemberCreate):
    """Nobody is added as owner (422). An email that is already a member returns that member."""
    person, _created = member_service.add_member(
        db.session, g.actor, g.member.customer, email=body.email, name=body.name,
        role=Role(body.role),
    )
    return CustomerPortalMember.from_row(person)


@operation(bp, "PATCH", "/customer-portal/members/<id>", "customer_portal:members:update_member",
           tag=TAG, summary="Change a member's name or role", auth=member(), path=IdPath,
           body=CustomerPortalMemberUpdate, response=CustomerPortalMember,
           errors=(*MANAGE_ERRORS, 404))
def update_member(path: IdPath, body: CustomerPortalMemberUpdate):
    """You cannot change your own role; `role: owner` transfers ownership (owner only)."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    person = member_service.update_member(db.session, g.actor, g.member.customer, path.id,
                                          **changes)
    return CustomerPortalMember.from_row(person)


@operation(bp, "DELETE", "/customer-portal/members/<id>", "customer_portal:members:remove_member",
           tag=TAG, summary="Remove a member from the team", auth=member(), path=IdPath,
           status=204, errors=(*MANAGE_ERRORS, 404))
def remove_member(path: IdPath):
    """Not yourself, not the owner. Revokes their seats and ends their sessions."""
    member_service.remove_member(db.session, g.actor, g.member.customer, path.id)


@operation(bp, "GET", "/customer-portal/customers/me", "customer_portal:customers:get",
           tag="customer portal: customer", summary="The signed-in member's customer",
           auth=member(), response=CustomerPortalCustomer, errors=(401,))
def get_customer():
    """The customer (team) the member belongs to."""
    c = g.member.customer
    return CustomerPortalCustomer(
        created_at=c.created_at, modified_at=c.modified_at, id=c.id, email=c.email,
        email_verified=False, name=c.name, billing_name=None, billing_address=None, tax_id=None,
        oauth_accounts={}, type=c.type.value, avatar_url=avatar_url(c.email, str(c.id)),
    )
