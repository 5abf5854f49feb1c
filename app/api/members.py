"""Members of a customer (organization token): the nested routes polar-sdk 1.0.2 calls, and the
older /v1/members routes of the seed documents. Every rule is the members service's."""
from __future__ import annotations

import uuid

from flask import g
from sqlalchemy import select

from .. import wire
from ..errors import NotFound
from ..extensions import db
from ..models import Customer as CustomerRow
from ..models import Member as MemberRow
from ..models import Role
from ..services import members as member_service
from ..services import organizations
from . import bp
from .auth import org
from .customers import customer_by_external_id, customer_by_id, customer_from
from .pagination import ListResource, listing, paginate
from .routing import operation
from .schemas import (
    CustomerMemberPath,
    CustomerSelector,
    ExternalCustomerPath,
    ExternalIdPath,
    ExternalMemberPath,
    IdPath,
    LegacyMemberListQuery,
    Member,
    MemberCreate,
    MemberCreateFromCustomer,
    MemberListQuery,
    MemberUpdate,
)

READ = org("members:read", "members:write")
WRITE = org("members:write")
TAG = "members"


# --- what each route does, once ------------------------------------------------------------------

def _list(customer: CustomerRow, query: MemberListQuery) -> dict:
    page = member_service.list_members(
        db.session, g.actor, customer, role=Role(query.role) if query.role else None,
        page=query.page, limit=query.limit, newest_first=query.newest_first, rows=True,
    )
    # The JSON bodies themselves (app/wire.py), not a pydantic model of each read back into JSON:
    # the same bytes, without validating what the database just gave us.
    return listing([wire.member_body(m) for m in page.items], page.total, query.limit)


def _create(customer: CustomerRow, body: MemberCreateFromCustomer):
    member, _created = member_service.add_member(
        db.session, g.actor, customer, email=body.email, name=body.name, role=body.role,
        external_id=body.external_id,
    )
    return Member.from_row(member)  # 201 whether new or existing (rule 6), as Polar does


def _update(customer: CustomerRow, member_id, body: MemberUpdate):
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    member = member_service.update_member(db.session, g.actor, customer, member_id, **changes)
    return Member.from_row(member)


def _delete(customer: CustomerRow, member_id) -> None:
    member_service.remove_member(db.session, g.actor, customer, member_id)


def _by_external(customer: CustomerRow, member_external_id: str) -> MemberRow:
    return member_service.get_member_by_external_id(db.session, customer, member_external_id)


# --- /v1/customers/{id}/members -------------------------------------------------------------------

@operation(bp, "GET", "/customers/<id>/members", "customers:members:list", tag=TAG,
           summary="List members of a customer", auth=READ, path=IdPath, query=MemberListQuery,
           response=ListResource[Member], errors=(403, 404))
def list_members(path: IdPath, query: MemberListQuery):
    """Scopes: `members:read` `members:write`."""
    return _list(customer_by_id(path.id), query)


@operation(bp, "POST", "/customers/<id>/members", "customers:members:create", tag=TAG,
           summary="Add a member to a customer", auth=WRITE, path=IdPath,
           body=MemberCreateFromCustomer, response=Member, status=201, errors=(403, 404))
def create_member(path: IdPath, body: MemberCreateFromCustomer):
    """An email that is already a member returns that member unchanged. Scope: `members:write`."""
    return _create(customer_by_id(path.id), body)


@operation(bp, "GET", "/customers/<id>/members/<member_id>", "customers:members:get", tag=TAG,
           summary="Get a member", auth=READ, path=CustomerMemberPath, response=Member,
           errors=(404,))
def get_member(path: CustomerMemberPath):
    """Scopes: `members:read` `members:write`."""
    return wire.member_body(organizations.get_customer_member(db.session, g.organization, path.id,
                                                              path.member_id))


@operation(bp, "PATCH", "/customers/<id>/members/<member_id>", "customers:members:update",
           tag=TAG, summary="Update a member", auth=WRITE, path=CustomerMemberPath,
           body=MemberUpdate, response=Member, errors=(403, 404))
def update_member(path: CustomerMemberPath, body: MemberUpdate):
    """`role: owner` transfers ownership. Scope: `members:write`."""
    return _update(customer_by_id(path.id), path.member_id, body)


@operation(bp, "DELETE", "/customers/<id>/members/<member_id>", "customers:members:delete",
           tag=TAG, summary="Remove a member", auth=WRITE, path=CustomerMemberPath, status=204,
           errors=(403, 404))
def delete_member(path: CustomerMemberPath):
    """Revokes their seats and ends their sessions. Scope: `members:write`."""
    _delete(customer_by_id(path.id), path.member_id)


# --- /v1/customers/external/{external_id}/members ------------------------------------------------

@operation(bp, "GET", "/customers/external/<external_id>/members",
           "customers:members:list_external", tag=TAG,
           summary="List members of a customer by its external id", auth=READ,
           path=ExternalCustomerPath, query=MemberListQuery, response=ListResource[Member],
           errors=(403, 404))
def list_members_external(path: ExternalCustomerPath, query: MemberListQuery):
    """Scopes: `members:read` `members:write`."""
    return _list(customer_by_external_id(path.external_id), query)


@operation(bp, "POST", "/customers/external/<external_id>/members",
           "customers:members:create_external", tag=TAG,
           summary="Add a member to a customer by its external id", auth=WRITE,
           path=ExternalCustomerPath, body=MemberCreateFromCustomer, response=Member, status=201,
           errors=(403, 404))
def create_member_external(path: ExternalCustomerPath, body: MemberCreateFromCustomer):
    """Scope: `members:write`."""
    return _create(customer_by_external_id(path.external_id), body)


@operation(bp, "GET", "/customers/external/<external_id>/members/<member_external_id>",
           "customers:members:get_external", tag=TAG, summary="Get a member by external ids",
           auth=READ, path=ExternalMemberPath, response=Member, errors=(404,))
def get_member_external(path: ExternalMemberPath):
    """Scopes: `members:read` `members:write`."""
    customer = customer_by_external_id(path.external_id)
    return Member.from_row(_by_external(customer, path.member_external_id))


@operation(bp, "PATCH", "/customers/external/<external_id>/members/<member_external_id>",
           "customers:members:update_external", tag=TAG,
           summary="Update a member by external ids", auth=WRITE, path=ExternalMemberPath,
           body=MemberUpdate, response=Member, errors=(403, 404))
def update_member_external(path: ExternalMemberPath, body: MemberUpdate):
    """Scope: `members:write`."""
    customer = customer_by_external_id(path.external_id)
    return _update(customer, _by_external(customer, path.member_external_id).id, body)


@operation(bp, "DELETE", "/customers/external/<external_id>/members/<member_external_id>",
           "customers:members:delete_external", tag=TAG,
           summary="Remove a member by external ids", auth=WRITE, path=ExternalMemberPath,
           status=204, errors=(403, 404))
def delete_member_external(path: ExternalMemberPath):
    """Scope: `members:write`."""
    customer = customer_by_external_id(path.external_id)
    _delete(customer, _by_external(customer, path.member_external_id).id)


# --- the older /v1/members routes (seed documents, polar_sdk 0.32.0) -----------------------------

LEGACY = {"tag": "members (older routes)", "deprecated": True}


def _member_in_organization(member_id: uuid.UUID) -> MemberRow:
    member = db.session.scalar(
        select(MemberRow)
        .join(CustomerRow, MemberRow.customer_id == CustomerRow.id)
        .where(MemberRow.id == member_id, MemberRow.deleted_at.is_(None),
               CustomerRow.organization_id == g.organization.id, CustomerRow.deleted_at.is_(None))
    )
    if member is None:
        raise NotFound("Member not found.")
    return member


@operation(bp, "GET", "/members", "members:list_members", also=("/members/",), **LEGACY,
           summary="List members", auth=READ, query=LegacyMemberListQuery,
           response=ListResource[Member], errors=(403, 404))
def legacy_list_members(query: LegacyMemberListQuery):
    """Members of one customer (`customer_id` or `external_customer_id`), or of all the
    organization's customers. Scopes: `members:read` `members:write`."""
    if query.customer_id is not None or query.external_customer_id is not None:
        return _list(customer_from(query.customer_id, query.external_customer_id), query)
    stmt = (
        select(MemberRow)
        .join(CustomerRow, MemberRow.customer_id == CustomerRow.id)
        .where(MemberRow.deleted_at.is_(None), CustomerRow.deleted_at.is_(None),
               CustomerRow.organization_id == g.organization.id)
    )
    if query.role is not None:
        stmt = stmt.where(MemberRow.role == Role(query.role))
    order = ((MemberRow.created_at.desc(), MemberRow.id.desc()) if query.newest_first
             else (MemberRow.created_at, MemberRow.id))
    rows, total = paginate(db.session, stmt, order, query.page, query.limit)
    return listing([Member.from_row(m) for m in rows], total, query.limit)


@operation(bp, "POST", "/members", "members:create_member", also=("/members/",), **LEGACY,
           summary="Create a member", auth=WRITE, body=MemberCreate, response=Member, status=201,
           errors=(403, 404))
def legacy_create_member(body: MemberCreate):
    """The customer is named in the body. Scope: `members:write`."""
    return _create(customer_by_id(body.customer_id), body)


@operation(bp, "GET", "/members/<id>", "members:get_member", **LEGACY, summary="Get a member",
           auth=READ, path=IdPath, response=Member, errors=(404,))
def legacy_get_member(path: IdPath):
    """Scopes: `members:read` `members:write`."""
    return Member.from_row(_member_in_organization(path.id))


@operation(bp, "PATCH", "/members/<id>", "members:update_member", **LEGACY,
           summary="Update a member", auth=WRITE, path=IdPath, body=MemberUpdate, response=Member,
           errors=(403, 404))
def legacy_update_member(path: IdPath, body: MemberUpdate):
    """Scope: `members:write`."""
    member = _member_in_organization(path.id)
    return _update(member.customer, member.id, body)


@operation(bp, "DELETE", "/members/<id>", "members:delete_member", **LEGACY,
           summary="Delete a member", auth=WRITE, path=IdPath, status=204, errors=(403, 404))
def legacy_delete_member(path: IdPath):
    """Scope: `members:write`."""
    member = _member_in_organization(path.id)
    _delete(member.customer, member.id)


def _legacy_external(path: ExternalIdPath,
                     query: CustomerSelector) -> tuple[CustomerRow, MemberRow]:
    customer = customer_from(query.customer_id, query.external_customer_id)
    return customer, _by_external(customer, path.external_id)


@operation(bp, "GET", "/members/external/<external_id>", "members:get_member_by_external_id",
           **LEGACY, summary="Get a member by external id", auth=READ, path=ExternalIdPath,
           query=CustomerSelector, response=Member, errors=(404,))
def legacy_get_member_external(path: ExternalIdPath, query: CustomerSelector):
    """Exactly one of `customer_id` or `external_customer_id`. Scopes: `members:read`
    `members:write`."""
    return Member.from_row(_legacy_external(path, query)[1])


@operation(bp, "PATCH", "/members/external/<external_id>", "members:update_member_by_external_id",
           **LEGACY, summary="Update a member by external id", auth=WRITE, path=ExternalIdPath,
           query=CustomerSelector, body=MemberUpdate, response=Member, errors=(403, 404))
def legacy_update_member_external(path: ExternalIdPath, query: CustomerSelector,
                                  body: MemberUpdate):
    """Exactly one of `customer_id` or `external_customer_id`. Scope: `members:write`."""
    customer, member = _legacy_external(path, query)
    return _update(customer, member.id, body)


@operation(bp, "DELETE", "/members/external/<external_id>", "members:delete_member_by_external_id",
           **LEGACY, summary="Delete a member by external id", auth=WRITE, path=ExternalIdPath,
           query=CustomerSelector, status=204, errors=(403, 404))
def legacy_delete_member_external(path: ExternalIdPath, query: CustomerSelector):
    """Exactly one of `customer_id` or `external_customer_id`. Scope: `members:write`."""
    customer, member = _legacy_external(path, query)
    _delete(customer, member.id)
