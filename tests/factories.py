"""Factories: the one place tests build organizations, teams and members."""
from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Customer, CustomerType, Member, Organization, Role
from app.services import organizations

_seq = itertools.count(1)


def make_org(slug: str | None = None, name: str | None = None) -> Organization:
    n = next(_seq)
    org = organizations.create_organization(db.session, slug or f"org{n}", name or f"Org {n}")
    db.session.commit()
    return org


def make_team(org: Organization, *, name: str | None = None, owner: str = "owner@example.com",
              members: dict[str, Role] | None = None, seats: int | None = None,
              external_id: str | None = None) -> Customer:
    """A team customer with its owner and, optionally, more members and a seat subscription."""
    team = organizations.create_team(
        db.session, org, name=name or f"Team {next(_seq)}", owner_email=owner,
        owner_name=owner.split("@")[0].title(), external_id=external_id,
    )
    for email, role in (members or {}).items():
        db.session.add(Member(customer_id=team.id, customer=team, email=email,
                              name=email.split("@")[0].title(), role=role))
    if seats is not None:
        organizations.set_seat_count(db.session, team, seats)
    db.session.commit()
    return team


def make_individual(org: Organization, email: str = "solo@example.com") -> Customer:
    customer = Customer(organization_id=org.id, organization=org, type=CustomerType.INDIVIDUAL,
                        email=email, name="Solo", customer_metadata={})
    db.session.add(customer)
    db.session.flush()
    db.session.add(Member(customer_id=customer.id, customer=customer, email=email, role=Role.OWNER))
    db.session.commit()
    return customer


def member(team: Customer, email: str) -> Member:
    return db.session.query(Member).filter(
        Member.customer_id == team.id, Member.email == email, Member.deleted_at.is_(None)
    ).one()



def as_(team: Customer, email: str):
    """The service actor for a member of `team` (what the portal passes for a signed-in person)."""
    from app.services.activity import Actor

    return Actor(member=member(team, email))


def make_endpoint(org: Organization, url: str, events=None):
    """A webhook endpoint of `org` and its secret (the one shown once at creation)."""
    from flask import current_app

    from app.services import webhooks

    endpoint, secret = webhooks.create_endpoint(
        db.session, org, current_app.config, url=url, events=list(events or webhooks.EVENT_TYPES))
    db.session.commit()
    return endpoint, secret
