"""Customers (organization token): create a team customer with its owner, get, list, update.
Also the customer lookups every organization endpoint uses, always scoped to the token's
organization so that another organization's ids are simply not found."""
from __future__ import annotations

from flask import g
from sqlalchemy import func, or_, select

from .. import text
from ..errors import NotFound
from ..extensions import db
from ..models import Customer as CustomerRow
from ..services import organizations
from . import bp
from .auth import org
from .errors import issue, validation_error
from .pagination import ListResource, listing, paginate
from .routing import operation
from .schemas import (
    Customer,
    CustomerCreate,
    CustomerListQuery,
    CustomerUpdate,
    ExternalIdPath,
    IdPath,
)

READ = org("customers:read", "customers:write")
WRITE = org("customers:write")


def customer_by_id(customer_id) -> CustomerRow:
    return organizations.get_customer(db.session, g.organization, customer_id)


def customer_by_external_id(external_id: str) -> CustomerRow:
    customer = db.session.scalar(
        select(CustomerRow).where(
            CustomerRow.organization_id == g.organization.id,
            CustomerRow.external_id == external_id,
            CustomerRow.deleted_at.is_(None),
        )
    )
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


def customer_from(customer_id: str | None, external_customer_id: str | None) -> CustomerRow:
    """The customer named by one of the two ids (the request models ensure exactly one)."""
    if customer_id is not None:
        return customer_by_id(customer_id)
    return customer_by_external_id(external_customer_id or "")


@operation(bp, "GET", "/customers", "customers:list", also=("/customers/",), tag="customers",
           summary="List customers", auth=READ, query=CustomerListQuery,
           response=ListResource[Customer])
def list_customers(query: CustomerListQuery):
    """The organization's customers, newest first. Scopes: `customers:read` `customers:write`."""
    stmt = select(CustomerRow).where(
        CustomerRow.organization_id == g.organization.id, CustomerRow.deleted_at.is_(None)
    )
    if query.email:
        stmt = stmt.where(func.lower(CustomerRow.email) == query.email.strip().lower())
    if query.query:
        needle = text.like_pattern(query.query.strip().lower())
        stmt = stmt.where(or_(func.lower(CustomerRow.name).like(needle, escape="\\"),
                              func.lower(CustomerRow.email).like(needle, escape="\\"),
                              func.lower(CustomerRow.external_id).like(needle, escape="\\")))
    rows, total = paginate(db.session, stmt, (CustomerRow.created_at.desc(), CustomerRow.id.desc()),
                           query.page, query.limit)
    return listing([Customer.from_row(c) for c in rows], total, query.limit)


@operation(bp, "POST", "/customers", "customers:create", also=("/customers/",), tag="customers",
           summary="Create a team customer", auth=WRITE, body=CustomerCreate, response=Customer,
           status=201)
def create_customer(body: CustomerCreate):
    """Create a team customer and its owner member. Scope: `customers:write`."""
    owner_email = body.owner.email if body.owner else body.email
    if not owner_email:
        raise validation_error([issue(["body", "owner"], "A team customer needs an owner: give "
                                      "`owner.email` or `email`.", "missing")])
    customer = organizations.create_team(
        db.session, g.organization, name=body.name or "", owner_email=owner_email,
        owner_name=body.owner.name if body.owner else None, external_id=body.external_id,
        actor=g.actor, customer_email=body.email if body.owner else None,
    )
    if body.metadata:
        customer.customer_metadata = body.metadata
    db.session.flush()
    return Customer.from_row(customer)


@operation(bp, "GET", "/customers/<id>", "customers:get", tag="customers", summary="Get a customer",
           auth=READ, path=IdPath, response=Customer, errors=(404,))
def get_customer(path: IdPath):
    """Scopes: `customers:read` `customers:write`."""
    return Customer.from_row(customer_by_id(path.id))


@operation(bp, "GET", "/customers/external/<external_id>", "customers:get_external",
           tag="customers", summary="Get a customer by external id", auth=READ,
           path=ExternalIdPath, response=Customer, errors=(404,))
def get_customer_external(path: ExternalIdPath):
    """Scopes: `customers:read` `customers:write`."""
    return Customer.from_row(customer_by_external_id(path.external_id))


@operation(bp, "PATCH", "/customers/<id>", "customers:update", tag="customers",
           summary="Update a customer", auth=WRITE, path=IdPath, body=CustomerUpdate,
           response=Customer, errors=(404,))
def update_customer(path: IdPath, body: CustomerUpdate):
    """Change the customer's name or metadata. Scope: `customers:write`."""
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    customer = organizations.update_customer(db.session, g.actor, customer_by_id(path.id), **changes)
    return Customer.from_row(customer)
