"""Operator commands: `flask --app wsgi <group> <command>`. The created id or token is printed
alone on the last line of stdout, so scripts can take it with `tail -n 1`."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from . import text
from .errors import PortalError
from .extensions import db
from .services import branding, mail, organizations

org_cli = AppGroup("org", help="Manage organizations (vendors).")
token_cli = AppGroup("token", help="Manage organization access tokens for the API.")
team_cli = AppGroup("team", help="Manage team customers.")
seats_cli = AppGroup("seats", help="Manage seat subscriptions.")
mail_cli = AppGroup("mail", help="Deliver queued email.")
webhooks_cli = AppGroup("webhooks", help="Manage webhook endpoints and deliver webhook events.")
groups_cli = AppGroup("groups", help="Manage a team's user groups.")


class Whole(click.IntRange):
    """A whole number within bounds; 'ten' is "not a valid integer", not "… integer range"."""

    name = "integer"


def _run(work):
    """Run `work()` in one transaction; domain and database errors become one clear line."""
    try:
        result = work()
        db.session.commit()
        return result
    except PortalError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    except (DataError, IntegrityError) as exc:  # the input broke a database limit
        db.session.rollback()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
        raise click.ClickException(f"The database refused this: {reason}") from None
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None


def _database_error(exc: SQLAlchemyError) -> click.ClickException:
    """One line for a database error that is not the input's fault: the database cannot be
    reached (DATABASE_URL), or it answers but lacks the schema (db upgrade)."""
    db.session.rollback()
    return _database_problem(f"Database error: {exc.__class__.__name__}.")


def _database_problem(what: str) -> click.ClickException:
    """WHAT, then why: the database cannot be reached, or it lacks the schema."""
    try:
        with db.engine.connect():
            pass
    except SQLAlchemyError as down:
        reason = str(getattr(down, "orig", None) or down).strip().splitlines()[0]
        return click.ClickException(
            f"Cannot reach the database ({reason}). Check DATABASE_URL.")
    return click.ClickException(f"{what} Is the schema up to date? Run: flask --app wsgi db upgrade")


def _run_in_org(slug: str, service, *args, **kwargs):
    """`service(session, organization, …)` for the organization SLUG, in one transaction (_run)."""
    return _run(lambda: service(db.session, organizations.get_organization(db.session, slug),
                                *args, **kwargs))


@org_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name shown in the portal.")
def org_create(slug: str, name: str):
    """Create an organization whose portal lives at /SLUG/."""
    org = _run(lambda: organizations.create_organization(db.session, slug, name))
    click.echo(f"Created organization {org.name!r}; its portal is {current_app.config['BASE_URL']}/{org.slug}/login")
    click.echo(f"Next: flask --app wsgi team create {org.slug} --name NAME --owner-email EMAIL, "
               f"and an API token with: flask --app wsgi token create {org.slug}")
    click.echo(str(org.id))


@org_cli.command("allow-embed")
@click.argument("slug")
@click.argument("origins", nargs=-1, metavar="ORIGIN...")
@click.option("--remove", "remove", is_flag=True, help="Remove the ORIGINs instead of adding them.")
@click.option("--replace", "replace", is_flag=True,
              help="Allow exactly the ORIGINs given, dropping every other.")
@click.option("--none", "clear", is_flag=True, help="Allow no origin: the portal cannot be framed.")
@click.option("--sign-in-in-frame/--no-sign-in-in-frame", "signin", default=None,
              help="Whether an ended session inside the frame shows the sign-in form "
                   "(default: no; the host page is told to mint a new session).")
def org_allow_embed(slug: str, origins: tuple[str, ...], remove: bool, replace: bool, clear: bool,
                    signin: bool | None):
    """Add ORIGINs (https://app.example.com) to those allowed to frame this organization's portal.

    The origins already allowed stay; --remove takes the ORIGINs out, --replace keeps only them."""
    if sum((remove, replace, clear)) > 1:
        raise click.UsageError("Use only one of --remove, --replace and --none.")
    if clear and origins:
        raise click.UsageError("--none takes no ORIGIN.")
    if not origins and not clear and signin is None:
        raise click.UsageError("Give at least one ORIGIN, or --none to forbid framing.")

    def work():
        org = organizations.get_organization(db.session, slug)
        if clear or replace:
            organizations.set_embed_origins(db.session, org, list(origins))
        elif origins:
            change = {"remove" if remove else "add": origins}
            organizations.change_embed_origins(db.session, org, **change)
        if signin is not None:
            organizations.allow_signin_in_frame(db.session, org, signin)
        return org

    org = _run(work)
    allowed = org.embed_origins or []
    click.echo("Allowed to frame the portal: " + (" ".join(allowed) if allowed else "nobody"))
    click.echo("Sign-in form inside the frame: "
               + ("shown" if (org.features or {}).get("signin_in_frame") else "not shown"))


@org_cli.command("brand")
@click.argument("slug")
@click.option("--name", default=None, help="Display name shown in the portal and its emails.")
@click.option("--accent", default=None, metavar="#RRGGBB",
              help="Accent colour of buttons and links; refused below 4.5:1 contrast on white. "
                   "'none' goes back to the default.")
@click.option("--logo", "logo_file", type=click.File("rb"), default=None,
              help="A PNG, JPEG, GIF or WebP file of at most 256 KB, served by the portal.")
@click.option("--logo-url", default=None, help="An https URL of the logo instead; 'none' removes the logo.")
@click.option("--product-url", default=None,
              help="Where members open your product (a link on their seats); 'none' removes it.")
def org_brand(slug, name, accent, logo_file, logo_url, product_url):
    """Set the brand the portal, its sign-in pages and its emails wear."""
    if logo_file and logo_url:
        raise click.UsageError("Give --logo or --logo-url, not both.")
    given = {"name": name, "accent_color": accent, "logo_url": logo_url, "product_url": product_url}
    changes = {key: (None if value.lower() == "none" and key != "name" else value)
               for key, value in given.items() if value is not None}
    if logo_file:
        changes["logo_image"] = logo_file.read(branding.LOGO_MAX_BYTES + 1)
        if len(changes["logo_image"]) > branding.LOGO_MAX_BYTES:  # say its size, not what was read
            size = len(changes["logo_image"]) + sum(len(chunk) for chunk in iter(
                lambda: logo_file.read(1 << 20), b""))
            raise click.ClickException(
                f"The logo is {size // 1024} KB; at most {branding.LOGO_MAX_BYTES // 1024} KB.")
    if not changes:
        raise click.UsageError("Give at least one of --name, --accent, --logo, --logo-url, --product-url.")

    org = _run_in_org(slug, branding.set_brand, **changes)
    logo = ("uploaded " + org.logo_type) if org.logo_type else (org.logo_url or "none")
    click.echo(f"{org.name}: accent {org.accent_color or 'default'}, logo {logo}, "
               f"product {org.product_url or 'none'}")


@org_cli.command("list")
def org_list():
    """List the organizations: slug, name and where their portal signs people in."""
    rows = _run(lambda: organizations.list_organizations(db.session))
    if not rows:
        click.echo("No organizations yet. Create one with: flask --app wsgi org create SLUG --name NAME")
    base = current_app.config["BASE_URL"]
    for org in rows:
        click.echo(f"{org.slug:<20} {org.name:<30} {base}/{org.slug}/login")


@token_cli.command("create")
@click.argument("slug")
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help=f"Repeat for several. Default: all of {', '.join(organizations.SCOPES)}.")
@click.option("--name", default=None, help="A label to recognise the token by.")
def token_create(slug: str, scopes: tuple[str, ...], name: str | None):
    """Mint an organization access token. It is shown once and stored only as a hash."""

    row, raw = _run_in_org(slug, organizations.create_token, list(scopes) or None, name)
    click.echo(f"Token {row.id} with scopes: {' '.join(row.scopes)}")
    click.echo("Copy it now; it cannot be shown again.", err=True)
    click.echo(raw)


@token_cli.command("list")
@click.argument("slug")
def token_list(slug: str):
    """List the organization's access tokens: id, name, scopes, and whether revoked."""

    rows = _run_in_org(slug, organizations.list_tokens)
    if not rows:
        click.echo("No access tokens. Create one with: flask --app wsgi token create " + slug)
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.id}  {state:<18} {row.name or '-':<20} {' '.join(row.scopes)}")


@token_cli.command("revoke")
@click.argument("slug")
@click.argument("token_id")
def token_revoke(slug: str, token_id: str):
    """Revoke an access token now (its id comes from `token list`)."""

    from .models import utcnow

    before = utcnow()
    row = _run_in_org(slug, organizations.revoke_token, token_id)
    if row.revoked_at < before:
        click.echo(f"Token {row.id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC.")
    else:
        click.echo(f"Token {row.id} is revoked; requests with it now get 401.")
    click.echo(str(row.id))


@team_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The team's name.")
@click.option("--owner-email", required=True, help="Email of the team's owner.")
@click.option("--owner-name", default=None, help="Name of the team's owner.")
@click.option("--external-id", default=None, help="Your own id for this customer.")
def team_create(slug, name, owner_email, owner_name, external_id):
    """Create a team customer with its owner. Prints the customer id."""

    customer = _run_in_org(slug, organizations.create_team, name=name, owner_email=owner_email,
                           owner_name=owner_name, external_id=external_id)
    click.echo(f"Created team {customer.name!r} owned by {owner_email}")
    click.echo(f"{owner_email} signs in at {current_app.config['BASE_URL']}/{slug}/login. "
               f"Give the team seats with: flask --app wsgi seats set {customer.id} --seats N")
    click.echo(str(customer.id))


@team_cli.command("list")
@click.argument("slug")
def team_list(slug: str):
    """List the organization's customers: id, type, members, external id and name."""

    rows = _run_in_org(slug, organizations.list_customers)
    if not rows:
        click.echo(f"No customers yet. Create a team with: flask --app wsgi team create {slug} "
                   "--name NAME --owner-email EMAIL")
        return
    click.echo(f"{'ID':<36}  {'TYPE':<10} {'MEMBERS':>7}  {'EXTERNAL ID':<20} NAME")
    for customer, count in rows:
        click.echo(f"{customer.id}  {customer.type.value:<10} {count:>7}  "
                   f"{customer.external_id or '-':<20} {customer.name}")


@team_cli.command("fill")
@click.argument("customer_id")
@click.option("--count", type=Whole(1, 100_000), required=True,
              help="How many synthetic members to add (1-100000).")
def team_fill(customer_id: str, count: int):
    """Add COUNT synthetic members to a team in bulk (load tests, demos). Prints the count."""
    from .services import members
    from .services.access import Actor

    def work():
        customer = _team(customer_id)
        return customer.name, members.fill_synthetic(db.session, Actor.operator(), customer, count)

    name, added = _run(work)
    click.echo(f"Added {added} synthetic members to {name!r}.")
    click.echo(str(added))


@seats_cli.command("set")
@click.argument("customer_id")
@click.option("--seats", type=Whole(0, 1000), required=True, help="Number of seats (0-1000).")
@click.option("--product", default=None, help="Product name shown to the team (default: Team plan).")
def seats_set(customer_id: str, seats: int, product: str | None):
    """Create or update a customer's seat subscription. Prints the subscription id."""
    def work():
        customer = _team(customer_id)
        return organizations.set_seat_count(db.session, customer, seats, product_name=product)

    sub = _run(work)
    click.echo(f"{sub.product_name}: {sub.seats} seats")
    click.echo(str(sub.id))


@mail_cli.command("deliver")
def mail_deliver():
    """Attempt every queued email that is due once (for cron; `flask worker` does it continuously).

    Exits 0 when it ran, whatever the SMTP server answered: mail that failed for now is retried
    later, mail that can never go out is marked failed with its reason."""
    config = current_app.config
    try:
        if mail.smtp_settings(config) is None and config.get("PORTAL_ENV") == "production":
            raise click.ClickException(
                f"SMTP_URL is not set; {mail.waiting(db.session)} emails stay queued.")
        tally = mail.deliver(db.session, config)
    except mail.MailConfigError as exc:  # a malformed SMTP_URL
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    click.echo(f"Sent {tally.sent}, failed {tally.failed}, retrying later {tally.retrying}.")
    if tally.failed or tally.retrying:
        click.echo("See the log, or last_error in outbox_emails, for the reasons.", err=True)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every delivery job once and exit (tests, cron).")
@with_appcontext
def worker_command(once: bool):
    """Deliver queued email and webhook events until stopped (SIGTERM or Ctrl-C finish the
    attempt in hand)."""
    from . import worker

    try:
        code = worker.run(current_app, once=once)
    except mail.MailConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if once and code:
        raise _database_problem("The delivery pass failed (the reason is in the log line above).")
    sys.exit(code)


@webhooks_cli.command("list")
@click.argument("slug")
def webhooks_list(slug: str):
    """List the organization's webhook endpoints: id, state, URL, events."""
    from .services import webhooks

    def work():
        org = organizations.get_organization(db.session, slug)
        return webhooks.list_endpoints(db.session, org, limit=webhooks.MAX_ENDPOINTS).items

    rows = _run(work)
    if not rows:
        click.echo(f"No webhook endpoints. Create one with: flask --app wsgi webhooks create {slug} "
                   "--url https://… --event member.created")
    for row in rows:
        state = "enabled" if row.enabled else "disabled"
        click.echo(f"{row.id}  {state:<8} {row.url}  {' '.join(row.events)}")
        if row.disabled_reason:
            click.echo(f"    {row.disabled_reason}")


@webhooks_cli.command("create")
@click.argument("slug")
@click.option("--url", required=True, help="Where to POST the events (https:// in production).")
@click.option("--event", "events", multiple=True, metavar="TYPE",
              help="Repeat for several. Default: every type the portal sends.")
@click.option("--name", default=None, help="A label to recognise the endpoint by.")
def webhooks_create(slug: str, url: str, events: tuple[str, ...], name: str | None):
    """Register a webhook endpoint. Prints its signing secret once, alone on the last line."""
    from .services import webhooks

    def work():
        org = organizations.get_organization(db.session, slug)
        return webhooks.create_endpoint(db.session, org, current_app.config, url=url,
                                        events=list(events) or list(webhooks.EVENT_TYPES),
                                        name=name)

    endpoint, secret = _run(work)
    click.echo(f"Endpoint {endpoint.id} for {' '.join(endpoint.events)}")
    click.echo("Copy the signing secret now; it cannot be shown again.", err=True)
    click.echo(secret)


@webhooks_cli.command("deliveries")
@click.argument("slug")
@click.option("--endpoint", "endpoint_id", default=None, metavar="ENDPOINT_ID",
              help="Only this endpoint's deliveries (its id comes from `webhooks list`).")
@click.option("--failed", is_flag=True, help="Only failed attempts.")
@click.option("--limit", type=Whole(1, 100), default=20, show_default=True,
              help="How many attempts to show, newest first (1-100).")
def webhooks_deliveries(slug: str, endpoint_id: str | None, failed: bool, limit: int):
    """The latest delivery attempts, newest first: time, status, duration, event type and id."""
    from .services import webhooks

    def work():
        org = organizations.get_organization(db.session, slug)
        ids = [webhooks.get_endpoint(db.session, org, endpoint_id).id] if endpoint_id else None
        return webhooks.list_deliveries(db.session, org, endpoint_ids=ids,
                                        succeeded=False if failed else None, limit=limit).items

    rows = _run(work)
    if not rows:
        click.echo("No deliveries yet.")
    for row in rows:
        status = row.http_code or "error"
        outcome = "ok" if row.succeeded else "failed"
        click.echo(f"{row.created_at:%Y-%m-%d %H:%M:%S}  {outcome:<6} {status!s:<5} "
                   f"{row.duration_ms:>6} ms  {row.event.type:<22} {row.event.id}")
        if not row.succeeded and row.response:
            click.echo("    " + row.response.splitlines()[0][:200])


@webhooks_cli.command("deliver")
@click.option("--once", is_flag=True, help="One batch (WEBHOOK_BATCH events) and exit.")
def webhooks_deliver(once: bool):
    """Send the webhook events that are due (retries included), then exit. For cron, or until
    the worker runs: the worker calls the same function."""
    from .services.webhook_delivery import deliver_due

    config = current_app.config
    batch = int(config.get("WEBHOOK_BATCH") or 100)
    total = 0
    try:
        while True:
            handled = deliver_due(db.session, config)
            total += handled
            if once or handled < batch:
                break
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    click.echo(f"Handled {text.counted(total, 'webhook event')}.")


def _team(customer_id: str):
    from .models import Customer

    customer = db.session.get(Customer, _uuid(customer_id))
    if customer is None or customer.deleted_at is not None:
        raise PortalError(f"No customer with id {customer_id}. List them with: "
                          "flask --app wsgi team list ORG_SLUG")
    return customer


@groups_cli.command("list")
@click.argument("customer_id")
def groups_list(customer_id: str):
    """List a team's user groups: id (as the /client/v4 API writes it), members, name."""
    from .services import groups
    from .services.access import Actor

    def work():
        customer = _team(customer_id)
        page = groups.list_groups(db.session, Actor.operator(), customer, limit=groups.GROUPS_MAX)
        return customer, page.items, groups.member_counts(db.session, [g.id for g in page.items])

    customer, rows, counts = _run(work)
    if not rows:
        click.echo(f"No groups in {customer.name!r} yet. Create one with: "
                   f"flask --app wsgi groups create {customer_id} --name NAME")
        return
    click.echo(f"{len(rows)} group{'s' if len(rows) != 1 else ''} in {customer.name!r} "
               f"(account id {customer.id.hex}):")
    click.echo(f"{'ID':<32}  {'MEMBERS':>7}  NAME")
    for group in rows:
        click.echo(f"{group.id.hex}  {counts.get(group.id, 0):>7}  {group.name}")


@groups_cli.command("create")
@click.argument("customer_id")
@click.option("--name", required=True, help="The group's name, unique in the team (any case).")
def groups_create(customer_id: str, name: str):
    """Create a user group in a team. Prints the group id."""
    from .services import groups
    from .services.access import Actor

    group = _run(lambda: groups.create_group(db.session, Actor.operator(), _team(customer_id), name=name))
    click.echo(f"Created group {group.name!r}.")
    click.echo(group.id.hex)


@groups_cli.command("members")
@click.argument("customer_id")
@click.argument("group_id")
def groups_members(customer_id: str, group_id: str):
    """List who is in a group: member id, status (accepted or pending), email, name."""
    from .services import groups
    from .services.access import Actor

    def work():
        customer = _team(customer_id)
        group = groups.read_group(db.session, Actor.operator(), customer, group_id)
        rows, page = [], 1
        while True:
            batch = groups.list_group_members(db.session, Actor.operator(), customer, group.id,
                                              page=page, limit=500).items
            rows += batch
            if len(batch) < 500:
                return group, rows
            page += 1

    group, rows = _run(work)
    if not rows:
        click.echo(f"Nobody is in {group.name!r} yet.")
        return
    click.echo(f"{len(rows)} in {group.name!r}:")
    for row in rows:
        person = row.member
        click.echo(f"{person.id.hex}  {person.status:<8}  {person.email}  {person.name or ''}".rstrip())


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise PortalError(f"{value!r} is not a valid id (expected a UUID).") from None


def register(app: Flask) -> None:
    from .demo import demo_command

    for group in (org_cli, token_cli, team_cli, seats_cli, mail_cli, webhooks_cli, groups_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
