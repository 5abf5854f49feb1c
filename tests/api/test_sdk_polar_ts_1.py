"""@polar-sh/sdk@1.0.1, unchanged, against the real server on loopback (`createPolar` from
`@polar-sh/sdk/2026-10` with `baseUrl`): `customers.members` (customer in the path),
`customerSeats`, `customerSessions`, `customerPortal`, `customers`.

This SDK does not check answers at run time (it hands back the JSON as its declared type), so
every answer a scenario keeps is checked here against the SDK's own type declarations
(tests/api/ts_shapes.py): a missing key or a wrong type would otherwise only break the vendor's
code later."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, Seat, SeatStatus, Subscription
from tests.api.conftest import gravatar, member_token, mint_token
from tests.api.ts_shapes import Shapes
from tests.factories import make_individual, make_org, make_team, member
from tests.support.smtp import first_link

pytestmark = pytest.mark.sdk

IMPORTS = """
import { createPolar, errors } from "@polar-sh/sdk/2026-10";
import { PolarClientError, PolarRateLimitError } from "@polar-sh/sdk";
const UNKNOWN = "00000000-0000-4000-8000-000000000000";
OUT.shapes = [];
// Keep an answer to check against the SDK's declared type `type`; return it.
function keep(type, value) {
  OUT.shapes.push([type, value]);
  return value;
}
"""


def run(runner, script: str, **inputs) -> dict:
    """Run a scenario; every kept answer must fit its declared type."""
    out = runner.run(IMPORTS + script, **inputs)
    shapes, kept = Shapes(runner.sdk_folder), out.pop("shapes")
    assert kept, "the scenario kept no answer to check"
    problems = [p for type_name, value in kept for p in shapes.problems(value, type_name)]
    assert not problems, "\n".join(problems)
    return out


def test_customers_members_every_call(ts_sdk_1, live_server, org, team, owner, token):
    for i in range(20):
        db.session.add(Member(customer_id=team.id, email=f"bulk{i:02}@example.com", role=Role.MEMBER))
    db.session.commit()
    solo = make_individual(org)
    stranger = make_team(make_org("globex", "Globex"), owner="boss@globex.example")
    out = run(ts_sdk_1, """
        const polar = createPolar({ accessToken: INPUT.token, baseUrl: INPUT.base_url });
        const cm = polar.customers.members;
        const C = INPUT.customer_id, X = INPUT.external_id;

        const page = keep("ListResourceMember", await cm.list(C, { limit: 10 }));
        OUT.list = [page.pagination.total_count, page.pagination.max_page, page.items.length];
        OUT.iter_list = (await all(cm.iterList(C, { limit: 10 }))).map((m) => m.email);
        OUT.list_external = keep("ListResourceMember", await cm.listExternal(X, { role: "owner" }))
          .items.map((m) => m.email);
        OUT.iter_list_external = (await all(cm.iterListExternal(X, { limit: 7, sorting: ["created_at"] }))).length;

        const one = keep("Member", await cm.create(C, { email: "sdk.one@example.com", name: "Sdk One",
                                                        external_id: "usr_sdk1", role: "billing_manager" }));
        OUT.create = [one.email, one.name, one.external_id, one.role, one.customer_id];
        const two = keep("Member", await cm.createExternal(X, { email: "sdk.two@example.com", external_id: "usr_sdk2" }));
        OUT.create_external = [two.role, two.customer_id];
        OUT.create_again = (await cm.create(C, { email: "SDK.ONE@example.com" })).id === one.id;
        OUT.get = keep("Member", await cm.get(C, one.id)).email;
        OUT.get_external = keep("Member", await cm.getExternal(X, "usr_sdk2")).email;
        const updated = keep("Member", await cm.update(C, one.id, { name: "Sdk Uno", role: "member" }));
        OUT.update = [updated.name, updated.role];
        const moved = keep("Member", await cm.updateExternal(X, "usr_sdk2", { email: "sdk.deux@example.com", name: null }));
        OUT.update_external = [moved.email, moved.name];
        OUT.delete = String(await cm.delete(C, one.id));
        OUT.delete_external = String(await cm.deleteExternal(X, "usr_sdk2"));
        OUT.after = (await cm.list(C, { limit: 100 })).pagination.total_count;

        let e = await failure(() => cm.create(C, { email: "x@example.com", role: "owner" }), errors.HTTPValidationError);
        OUT.add_owner = [e.statusCode, keep("HTTPValidationError", e.error).detail[0].loc];
        e = await failure(() => cm.create(C, { email: "not-an-email" }), errors.HTTPValidationError);
        OUT.bad_email = e.error.detail[0].loc;
        e = await failure(() => cm.update(C, INPUT.owner_id, { role: "member" }), errors.HTTPValidationError);
        OUT.demote_owner = e.error.detail[0].loc;
        e = await failure(() => cm.delete(C, INPUT.owner_id), errors.HTTPValidationError);
        OUT.delete_owner = e.error.detail[0].loc;
        e = await failure(() => cm.deleteExternal(X, INPUT.owner_external_id), errors.HTTPValidationError);
        OUT.delete_owner_external = e.error.detail[0].loc;
        e = await failure(() => cm.get(C, UNKNOWN), errors.ResourceNotFound);
        OUT.unknown_member = [e.statusCode, keep("ResourceNotFound", e.error).error, e.error.detail];
        e = await failure(() => cm.getExternal(X, "nobody"), errors.ResourceNotFound);
        OUT.unknown_external = e.statusCode;
        e = await failure(() => cm.getExternal("a b/c?d", "x#y"), errors.ResourceNotFound);
        OUT.odd_ids = e.statusCode;
        e = await failure(() => cm.list(INPUT.stranger_id), errors.ResourceNotFound);
        OUT.other_org = e.statusCode;
        e = await failure(() => cm.create(INPUT.individual_id, { email: "x@example.com" }), errors.NotPermitted);
        OUT.individual = [e.statusCode, keep("NotPermitted", e.error).error];
        e = await failure(() => cm.create(C, { email: "y@example.com" }, { accessToken: INPUT.read_token }),
                          errors.NotPermitted);
        OUT.missing_scope = e.statusCode;
        report();
        """,
        token=token, read_token=mint_token(org, ["members:read"]), base_url=live_server.url,
        customer_id=str(team.id), external_id="cus_core", owner_id=str(owner.id),
        owner_external_id=_give_external_id(owner, "usr_owner"),
        individual_id=str(solo.id), stranger_id=str(stranger.id),
    )
    assert out["list"] == [23, 3, 10]
    assert len(out["iter_list"]) == 23 == len(set(out["iter_list"]))
    assert out["list_external"] == ["owner@example.com"]
    assert out["iter_list_external"] == 23
    assert out["create"] == ["sdk.one@example.com", "Sdk One", "usr_sdk1", "billing_manager", str(team.id)]
    assert out["create_external"] == ["member", str(team.id)]
    assert out["create_again"] is True
    assert out["get"] == "sdk.one@example.com" and out["get_external"] == "sdk.two@example.com"
    assert out["update"] == ["Sdk Uno", "member"]
    assert out["update_external"] == ["sdk.deux@example.com", None]
    assert out["delete"] == "undefined" and out["delete_external"] == "undefined"
    assert out["after"] == 23
    assert out["add_owner"] == [422, ["body", "role"]]
    assert out["bad_email"] == ["body", "email"]
    assert out["demote_owner"] == ["body", "role"]
    assert out["delete_owner"] == ["path", "id"] == out["delete_owner_external"]
    assert out["unknown_member"] == [404, "ResourceNotFound", "Member not found."]
    assert out["unknown_external"] == 404 and out["odd_ids"] == 404 and out["other_org"] == 404
    assert out["individual"] == [403, "NotPermitted"]
    assert out["missing_scope"] == 403
    db.session.expire_all()
    gone = db.session.scalars(select(Member).where(Member.email.like("sdk.%"))).all()
    assert len(gone) == 2 and all(m.deleted_at is not None for m in gone)


def _give_external_id(person, external_id: str) -> str:
    person.external_id = external_id
    db.session.commit()
    return external_id


def test_customer_seats_assign_list_resend_revoke_claim(ts_sdk_1, live_server, app, team, token, mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    out = run(ts_sdk_1, """
        const polar = createPolar({ accessToken: INPUT.token, baseUrl: INPUT.base_url });
        const seats = polar.customerSeats;
        const S = INPUT.subscription_id;
        const a = keep("CustomerSeat", await seats.assignSeat({ subscription_id: S, email: "seat.a@example.com",
                                                                metadata: { team: "core" } }));
        const b = keep("CustomerSeat", await seats.assignSeat({ subscription_id: S, email: "seat.b@example.com" }));
        const c = keep("CustomerSeat", await seats.assignSeat({ subscription_id: S, email: "seat.c@example.com",
                                                                immediate_claim: true }));
        OUT.assign = [a.status, a.email, a.seat_metadata, a.member.role, c.status];
        const listed = keep("SeatsList", await seats.listSeats({ subscription_id: S }));
        OUT.list = [listed.total_seats, listed.available_seats, listed.seats.length];
        let e = await failure(() => seats.assignSeat({ subscription_id: S, email: "seat.d@example.com" }),
                              errors.CustomerSeatsAssignSeat400Error);
        OUT.full = [e.statusCode, e.error.error];
        const resent = keep("CustomerSeat", await seats.resendInvitation(a.id));
        OUT.resend = [resent.status, resent.invitation_token_expires_at !== null];
        const revoked = keep("CustomerSeat", await seats.revokeSeat(b.id));
        OUT.revoke = [revoked.status, revoked.revoked_at !== null];
        OUT.revoke_again = (await seats.revokeSeat(b.id)).status;
        e = await failure(() => seats.resendInvitation(b.id), errors.CustomerSeatsResendInvitation400Error);
        OUT.resend_revoked = e.statusCode;
        e = await failure(() => seats.revokeSeat(UNKNOWN), errors.CustomerSeatsRevokeSeat404Error);
        OUT.revoke_unknown = e.statusCode;
        const many = Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, i]));
        e = await failure(() => seats.assignSeat({ subscription_id: S, email: "m@example.com", metadata: many }),
                          errors.HTTPValidationError);
        OUT.metadata = e.error.detail[0].loc;
        e = await failure(() => seats.getClaimInfo("not-a-token"), errors.CustomerSeatsGetClaimInfo404Error);
        OUT.claim_info_bad = e.statusCode;
        e = await failure(() => seats.claimSeat({ invitation_token: "not-a-token" }), errors.CustomerSeatsClaimSeat400Error);
        OUT.claim_bad = e.statusCode;
        report();
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id),
    )
    assert out["assign"] == ["pending", "seat.a@example.com", {"team": "core"}, "member", "claimed"]
    assert out["list"] == [3, 0, 3]
    assert out["full"] == [400, "SeatNotAvailable"]
    assert out["resend"] == ["pending", True]
    assert out["revoke"] == ["revoked", True] and out["revoke_again"] == "revoked"
    assert out["resend_revoked"] == 400 and out["revoke_unknown"] == 404
    assert out["metadata"] == ["body", "metadata"]
    assert out["claim_info_bad"] == 404 and out["claim_bad"] == 400

    mailbox.wait_for("seat.a@example.com", count=2)
    old, new = [first_link(m, "/claim").split("token=", 1)[1] for m in mailbox.to("seat.a@example.com")[:2]]
    claimed = run(ts_sdk_1, """
        const publicApi = createPolar({ baseUrl: INPUT.base_url });  // public endpoints, no token
        let e = await failure(() => publicApi.customerSeats.getClaimInfo(INPUT.old), errors.CustomerSeatsGetClaimInfo404Error);
        OUT.old_link = e.statusCode;
        const info = keep("SeatClaimInfo", await publicApi.customerSeats.getClaimInfo(INPUT.new));
        OUT.info = [info.product_name, info.organization_slug, info.customer_email, info.can_claim];
        const done = keep("CustomerSeatClaimResponse", await publicApi.customerSeats.claimSeat({ invitation_token: INPUT.new }));
        OUT.claim = [done.seat.status, done.customer_session_token.slice(0, 10)];
        const me = createPolar({ accessToken: done.customer_session_token, baseUrl: INPUT.base_url });
        const user = keep("PortalAuthenticatedUser", await me.customerPortal.customerSession.getAuthenticatedUser());
        OUT.user = [user.type, user.email, user.role];
        e = await failure(() => publicApi.customerSeats.claimSeat({ invitation_token: INPUT.new }),
                          errors.CustomerSeatsClaimSeat400Error);
        OUT.claim_twice = e.statusCode;
        report();
        """,
        base_url=live_server.url, old=old, new=new,
    )
    assert claimed["old_link"] == 404
    assert claimed["info"] == ["Team plan", "acme", "seat.a@example.com", True]
    assert claimed["claim"] == ["claimed", "polar_mst_"]
    assert claimed["user"] == ["member", "seat.a@example.com", "member"]
    assert claimed["claim_twice"] == 400
    db.session.expire_all()
    assert sorted(s.status.value for s in db.session.scalars(select(Seat))) == ["claimed", "claimed", "revoked"]


def test_customer_sessions_and_the_customer_portal(ts_sdk_1, live_server, app, team, owner, billing, dev,
                                                   token):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    out = run(ts_sdk_1, """
        const base = INPUT.base_url;
        const vendor = createPolar({ accessToken: INPUT.token, baseUrl: base });
        const s = keep("CustomerSession", await vendor.customerSessions.create({
          customer_id: INPUT.customer_id, member_id: INPUT.billing_id, return_url: "https://vendor.example/back" }));
        OUT.session = [s.token.slice(0, 10), s.customer.type, s.customer_id, s.return_url,
                       s.customer_portal_url.startsWith(base + "/acme/portal/enter?token="), s.customer.avatar_url];
        const byExt = keep("CustomerSession", await vendor.customerSessions.create({ external_customer_id: "cus_core" }));
        OUT.owner_session = (await createPolar({ accessToken: byExt.token, baseUrl: base })
          .customerPortal.customerSession.getAuthenticatedUser()).role;
        let e = await failure(() => vendor.customerSessions.create({ customer_id: INPUT.customer_id, member_id: UNKNOWN }),
                              errors.HTTPValidationError);
        OUT.session_bad_member = e.error.detail[0].loc;

        const portal = createPolar({ accessToken: s.token, baseUrl: base });
        OUT.introspect = keep("CustomerCustomerSession", await portal.customerPortal.customerSession.introspect()).return_url;
        OUT.user = keep("PortalAuthenticatedUser", await portal.customerPortal.customerSession.getAuthenticatedUser()).email;
        const me = keep("CustomerPortalCustomer", await portal.customerPortal.customers.get());
        OUT.me = [me.type, me.name];
        const pm = portal.customerPortal.members;
        const listed = keep("ListResourceCustomerPortalMember", await pm.listMembers({ limit: 2 }));
        OUT.list = [listed.pagination.total_count, listed.pagination.max_page, listed.items.length];
        OUT.iter = (await all(pm.iterListMembers({ limit: 2 }))).map((m) => m.email).sort();
        const added = keep("CustomerPortalMember", await pm.addMember({ email: "portal.new@example.com", name: "Portal New" }));
        OUT.add = [added.role, added.name];
        OUT.add_again = (await pm.addMember({ email: "PORTAL.NEW@example.com" })).id === added.id;
        const changed = keep("CustomerPortalMember", await pm.updateMember(added.id, { name: "Portal Renamed",
                                                                                      role: "billing_manager" }));
        OUT.update = [changed.name, changed.role];
        OUT.remove = String(await pm.removeMember(added.id));
        e = await failure(() => pm.addMember({ email: "o@example.com", role: "owner" }), errors.HTTPValidationError);
        OUT.add_owner = [e.statusCode, e.error.detail[0].loc];
        e = await failure(() => pm.updateMember(INPUT.billing_id, { role: "member" }), errors.HTTPValidationError);
        OUT.own_role = e.error.detail[0].loc;
        e = await failure(() => pm.updateMember(INPUT.dev_id, { role: "owner" }), errors.HTTPValidationError);
        OUT.transfer_by_billing = e.error.detail[0].loc;
        e = await failure(() => pm.removeMember(INPUT.billing_id), errors.HTTPValidationError);
        OUT.remove_self = e.error.detail[0].loc;
        e = await failure(() => pm.removeMember(INPUT.owner_id), errors.HTTPValidationError);
        OUT.remove_owner = e.error.detail[0].loc;
        e = await failure(() => pm.updateMember(UNKNOWN, { name: "x" }), errors.CustomerPortalMembersUpdateMember404Error);
        OUT.unknown = e.statusCode;

        const ps = portal.customerPortal.seats;
        const seat = keep("CustomerSeat", await ps.assignSeat({ email: "portal.seat@example.com" }));
        OUT.seat = [seat.status, seat.email];
        OUT.seats = [keep("SeatsList", await ps.listSeats()).available_seats,
                     (await ps.listSeats({ subscription_id: seat.subscription_id })).total_seats];
        OUT.resend = keep("CustomerSeat", await ps.resendInvitation(seat.id)).status;
        OUT.revoke = keep("CustomerSeat", await ps.revokeSeat(seat.id)).status;
        e = await failure(() => ps.resendInvitation(seat.id), errors.CustomerPortalSeatsResendInvitation400Error);
        OUT.resend_revoked = e.statusCode;

        const plainToken = (await vendor.customerSessions.create({ customer_id: INPUT.customer_id,
                                                                   member_id: INPUT.dev_id })).token;
        const plain = createPolar({ accessToken: plainToken, baseUrl: base });
        e = await failure(() => plain.customerPortal.members.listMembers(), errors.CustomerPortalMembersListMembers403Error);
        OUT.plain_list = e.statusCode;
        e = await failure(() => plain.customerPortal.members.addMember({ email: "z@example.com" }),
                          errors.CustomerPortalMembersAddMember403Error);
        OUT.plain_add = e.statusCode;
        e = await failure(() => plain.customerPortal.seats.assignSeat({ email: "z@example.com" }),
                          errors.CustomerPortalSeatsAssignSeat403Error);
        OUT.plain_seat = e.statusCode;
        e = await failure(() => plain.customerPortal.seats.resendInvitation(seat.id),
                          errors.CustomerPortalSeatsResendInvitation403Error);
        OUT.plain_resend = e.statusCode;
        OUT.plain_reads_seats = (await plain.customerPortal.seats.listSeats()).total_seats;
        e = await failure(() => vendor.customerPortal.members.listMembers(), errors.CustomerPortalMembersListMembers401Error);
        OUT.org_token_in_portal = e.statusCode;
        report();
        """,
        token=token, base_url=live_server.url, customer_id=str(team.id), owner_id=str(owner.id),
        billing_id=str(billing.id), dev_id=str(dev.id),
    )
    assert out["session"] == ["polar_mst_", "team", str(team.id), "https://vendor.example/back", True,
                              gravatar(team.email)]
    assert out["owner_session"] == "owner"
    assert out["session_bad_member"] == ["body", "member_id"]
    assert out["introspect"] == "https://vendor.example/back"
    assert out["user"] == "billing@example.com"
    assert out["me"] == ["team", "Core Team"]
    assert out["list"] == [3, 2, 2]
    assert out["iter"] == ["billing@example.com", "dev@example.com", "owner@example.com"]
    assert out["add"] == ["member", "Portal New"] and out["add_again"] is True
    assert out["update"] == ["Portal Renamed", "billing_manager"] and out["remove"] == "undefined"
    assert out["add_owner"] == [422, ["body", "role"]]
    assert out["own_role"] == ["path", "id"]
    assert out["transfer_by_billing"] == ["body", "role"]
    assert out["remove_self"] == ["path", "id"] and out["remove_owner"] == ["path", "id"]
    assert out["unknown"] == 404
    assert out["seat"] == ["pending", "portal.seat@example.com"]
    assert out["seats"] == [2, 3] and out["resend"] == "pending" and out["revoke"] == "revoked"
    assert out["resend_revoked"] == 400
    assert out["plain_list"] == 403 and out["plain_add"] == 403 and out["plain_seat"] == 403
    assert out["plain_resend"] == 403 and out["plain_reads_seats"] == 3
    assert out["org_token_in_portal"] == 401
    db.session.expire_all()
    assert member(team, "billing@example.com").role is Role.BILLING_MANAGER
    assert db.session.scalar(select(Member).where(Member.email == "portal.new@example.com")).deleted_at


def test_customers_rate_limits_and_claimed_subscriptions(ts_sdk_1, live_server, team, dev, token):
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    db.session.add(Seat(subscription_id=sub.id, status=SeatStatus.CLAIMED, email=dev.email,
                        member_id=dev.id, claimed_at=sub.created_at))
    db.session.commit()
    out = run(ts_sdk_1, """
        const base = INPUT.base_url;
        const polar = createPolar({ accessToken: INPUT.token, baseUrl: base });
        const made = keep("Customer", await polar.customers.create({
          type: "team", name: "Initech", email: "peter@initech.example", external_id: "cus_ini",
          owner: { email: "peter@initech.example", name: "Peter" } }));
        OUT.create = [made.type, made.name, made.external_id, made.avatar_url];
        OUT.get = keep("Customer", await polar.customers.get(made.id)).name;
        OUT.get_external = keep("Customer", await polar.customers.getExternal("cus_ini")).id === made.id;
        keep("ListResourceCustomer", await polar.customers.list({ limit: 1 }));
        OUT.list = (await all(polar.customers.iterList({ limit: 1 }))).map((c) => c.name).sort();
        OUT.update = keep("Customer", await polar.customers.update(made.id, { name: "Initrode",
                                                                               metadata: { tier: 2 } })).metadata;
        OUT.owner = (await polar.customers.members.list(made.id, { role: "owner" })).items.map((m) => m.email);
        let e = await failure(() => polar.customers.get(UNKNOWN), errors.ResourceNotFound);
        OUT.unknown = e.statusCode;
        e = await failure(() => polar.customers.create({ type: "team", name: "X" }), errors.HTTPValidationError);
        OUT.no_owner = e.error.detail[0].loc;

        const seat = await polar.customerSeats.assignSeat({ subscription_id: INPUT.subscription_id, email: "r@example.com" });
        e = await failure(() => polar.customerSeats.resendInvitation(seat.id), PolarRateLimitError);
        OUT.resend_too_soon = [e.statusCode, Number.isInteger(e.retryAfter) && e.retryAfter > 0];

        const seats = createPolar({ accessToken: INPUT.member_token, baseUrl: base }).customerPortal.seats;
        const page = keep("ListResourceCustomerSubscription", await seats.listClaimedSubscriptions({ limit: 10 }));
        OUT.claimed = [page.pagination.total_count, page.items.map((s) =>
          [s.id, s.product_id, s.customer_id, s.product.name, s.seats, s.status, s.amount, s.product.organization.slug])];
        OUT.claimed_iter = (await all(seats.iterListClaimedSubscriptions({ limit: 1 }))).length;
        e = await failure(() => polar.customerPortal.seats.listClaimedSubscriptions(),
                          errors.CustomerPortalSeatsListClaimedSubscriptions401Error);
        OUT.org_token = e.statusCode;
        report();
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id), member_token=member_token(dev),
    )
    assert out["create"] == ["team", "Initech", "cus_ini", gravatar("peter@initech.example")]
    assert out["get"] == "Initech" and out["get_external"] is True
    assert out["list"] == ["Core Team", "Initech"]
    assert out["update"] == {"tier": 2}
    assert out["owner"] == ["peter@initech.example"]
    assert out["unknown"] == 404 and out["no_owner"] == ["body", "owner"]
    assert out["resend_too_soon"] == [429, True]
    assert out["claimed"] == [1, [[str(sub.id), str(sub.product_id), str(team.id), "Team plan", 3,
                                   "active", 0, "acme"]]]
    assert out["claimed_iter"] == 1 and out["org_token"] == 401


def test_the_shape_check_reports_what_the_declarations_forbid(ts_sdk_1):
    shapes = Shapes(ts_sdk_1.sdk_folder)
    good = {"id": "m", "created_at": "2025-06-01T12:00:00Z", "modified_at": None, "customer_id": "c",
            "email": "dev@example.com", "name": None, "external_id": None, "role": "member"}
    assert shapes.problems(good, "Member") == []
    assert shapes.problems({k: v for k, v in good.items() if k != "external_id"}, "Member") == [
        "$.external_id: missing (required by Member)"]
    assert shapes.problems({**good, "role": "admin"}, "Member")
    assert shapes.problems({"items": [{**good, "name": 3}], "pagination": {"total_count": 1, "max_page": 1}},
                           "ListResourceMember") == ['$.items[0].name: 3 is none of string | null']
    assert shapes.problems({"type": "team", "id": "c"}, "Customer")[0].startswith(
        "$: fits none of CustomerIndividual | CustomerTeam")
