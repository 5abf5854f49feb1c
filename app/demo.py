"""`flask --app wsgi demo`: a ready-to-click portal with demo data. Safe to run again."""
from __future__ import annotations

import os
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import delete, select

from .cli import Whole
from .extensions import db
from .models import (
    Customer,
    Member,
    Organization,
    OutboxEmail,
    Role,
    Seat,
    SeatStatus,
    Subscription,
    utcnow,
)
from .services import groups, invitations, mail, organizations, seats, signin
from .services.access import Actor

DEMO_SLUG = "acme"
TEAM = [
    ("Olivia Owner", "olivia@globex.example", Role.OWNER),
    ("Ben Billing", "ben@globex.example", Role.BILLING_MANAGER),
    ("Maya Patel", "maya@globex.example", Role.MEMBER),
    ("Sam Lee", "sam@globex.example", Role.MEMBER),
    ("Priya Shah", "priya@globex.example", Role.MEMBER),
    ("Tom Berg", "tom@globex.example", Role.MEMBER),
    (None, "contractor@globex.example", Role.MEMBER),
]


INVITEE = "tom@globex.example"


def _fresh_claim_link(session, team: Customer, email: str, base_url: str) -> str | None:
    """A working link for the invitee's pending seat: the emailed one on the first run, a new
    one on later runs (the one printed before stops working); None once the seat has been
    claimed or revoked in the demo."""
    seat = session.scalar(
        select(Seat).join(Subscription).where(Subscription.customer_id == team.id,
                                              Seat.email == email,
                                              Seat.status == SeatStatus.PENDING))
    if seat is None:
        return None
    # On the first run the invitation was just emailed (and printed): keep its link working.
    # seed() keeps its raw token in session.info, as the seat object may not outlive the commit.
    token = session.info.pop("demo_invitation_token", None) or getattr(seat, "invitation_token", None)
    if token is None:
        token = invitations.issue_token(seat, current_app.config.get("INVITATION_DAYS", 7))
        session.flush()
    return invitations.claim_url(base_url, seat, token)


def seed(session) -> Organization:
    """Create the demo organization, teams, members and seats unless they exist."""
    org = session.scalar(select(Organization).where(Organization.slug == DEMO_SLUG))
    if org is not None:
        return org
    org = organizations.create_organization(session, DEMO_SLUG, "Acme Analytics")
    globex = organizations.create_team(
        session, org, name="Globex Corporation", owner_email=TEAM[0][1], owner_name=TEAM[0][0],
        external_id="globex",
    )
    owner = session.scalar(select(Member).where(Member.customer_id == globex.id))
    owner.external_id = "usr_42"  # the member the README's embedding example signs in
    members = {TEAM[0][1]: owner}
    for name, email, role in TEAM[1:]:
        member = Member(customer_id=globex.id, customer=globex, email=email, name=name, role=role)
        session.add(member)
        members[email] = member
    session.flush()
    subscription = organizations.set_seat_count(session, globex, 10, product_name="Acme Pro")
    _seed_seats(session, subscription, members)
    _seed_groups(session, globex, members)

    initech = organizations.create_team(
        session, org, name="Initech", owner_email="peter@initech.example", owner_name="Peter Gibbons",
        external_id="initech",
    )
    # Sam belongs to two teams: signing in as Sam asks which one to open.
    session.add(Member(customer_id=initech.id, customer=initech, email="sam@globex.example",
                       name="Sam Lee", role=Role.MEMBER))
    organizations.set_seat_count(session, initech, 5, product_name="Acme Pro")
    session.flush()
    return org


def _seed_seats(session, subscription, members) -> None:
    """Seats in every state, given out through the seats service as the owner would.

    Claimed seats use the API's immediate claim (no email). Tom's invitation is emailed (printed
    in the terminal when SMTP_URL is unset: a working claim link to try). The contractor's
    invitation is then dated back so it shows as expired, and Ben's seat as revoked yesterday;
    their emails are dropped from the outbox, and their "sent" dates moved back with them, as
    they would tell a different story."""
    owner = Actor(member=members[TEAM[0][1]])
    base_url = current_app.config["BASE_URL"]
    now = utcnow()

    def give(email, **kwargs):
        return seats.assign_seat(session, owner, subscription, email=email, base_url=base_url,
                                 **kwargs)

    for email in ("olivia@globex.example", "maya@globex.example", "sam@globex.example",
                  "priya@globex.example"):
        give(email, immediate_claim=True).claimed_at = now - timedelta(days=3)
    session.info["demo_invitation_token"] = give(INVITEE).invitation_token
    late = give("contractor@globex.example")
    late.invitation_expires_at, late.invitation_sent_at = now - timedelta(days=1), now - timedelta(days=8)
    revoked = seats.revoke_seat(session, owner, give("ben@globex.example"))
    revoked.revoked_at, revoked.invitation_sent_at = now - timedelta(days=1), now - timedelta(days=2)
    session.execute(delete(OutboxEmail).where(
        OutboxEmail.to_address.in_(["contractor@globex.example", "ben@globex.example"])))
    session.flush()


def _seed_groups(session, team: Customer, members) -> None:
    """Two user groups, made by the owner through the groups service (the Groups page shows
    them; the vendor reads them through /client/v4)."""
    owner = Actor(member=members[TEAM[0][1]])
    for name, emails in (("Engineering", ["maya@globex.example", "sam@globex.example",
                                          "priya@globex.example"]),
                         ("Finance", ["ben@globex.example"])):
        group = groups.create_group(session, owner, team, name=name)
        groups.add_members(session, owner, team, group.id, [members[e].id for e in emails])


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=Whole(1, 65535),
              help="Port to listen on (1-65535).")
@click.option("--no-serve", is_flag=True, help="Set up the database and print the links, then exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool):
    """Migrate the database, seed demo data, print sign-in links and serve the portal."""
    app = current_app._get_current_object()
    if app.config.get("PORTAL_ENV") == "production":
        raise click.ClickException(
            "The demo is for development: it adds demo teams to DATABASE_URL and serves with a "
            "development server. Run it without PORTAL_ENV=production, on a database of its own.")
    if not os.environ.get("BASE_URL"):
        app.config["BASE_URL"] = f"http://{host}:{port}"
    upgrade()
    org = seed(db.session)
    db.session.commit()
    mail.join_background_delivery()  # Tom's invitation is printed before the links below
    globex = db.session.scalar(
        select(Customer).where(Customer.organization_id == org.id, Customer.external_id == "globex")
    )
    if globex is None:
        raise click.ClickException(
            f"This database already has an organization {DEMO_SLUG!r} without the demo team. "
            "Point DATABASE_URL at another database for the demo."
        )
    base = app.config["BASE_URL"]
    links = []
    for label, email in (("the owner", TEAM[0][1]), ("the billing manager", TEAM[1][1]),
                         ("a plain member", TEAM[2][1])):
        token, _code = signin.issue_link(db.session, org, email)
        links.append((label, email, signin.link_url(base, org, token)))
    claim_link = _fresh_claim_link(db.session, globex, INVITEE, base)
    db.session.commit()

    click.echo("")
    click.echo(f"Team Portal demo: organization {org.name!r}, team {globex.name!r} "
               f"(customer id {globex.id}, external id {globex.external_id!r}).")
    click.echo("Sign in by opening one of these links (each works once, for 15 minutes):")
    for label, email, link in links:
        click.echo(f"  as {label} ({email}):")
        click.echo(f"    {link}")
    if claim_link:
        click.echo(f"Claim the seat offered to {INVITEE} (works once, for 7 days):")
        click.echo(f"    {claim_link}")
    click.echo(f"Or ask for a new link at {base}/{org.slug}/login "
               "(the email is printed in this terminal).")
    click.echo("")
    if no_serve:
        return
    from werkzeug.serving import run_simple

    click.echo(f"Serving the portal on http://{host}:{port}/ (Ctrl+C to stop)")
    # Flask refuses app.run() inside a CLI command; serve with Werkzeug directly.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)
