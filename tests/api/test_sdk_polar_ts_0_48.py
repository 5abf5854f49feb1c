"""@polar-sh/sdk@0.48.1, unchanged, against the real server on loopback (`new Polar({accessToken,
serverURL})`): the flat `members` API of the seed documents (`/v1/members/…`), customer sessions,
the customer portal and seats. This SDK checks every answer with its zod schemas, so each call
here also proves that the response has every field it requires, of the type it requires."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, Seat, SeatStatus, Subscription
from tests.api.conftest import gravatar, member_token, mint_token
from tests.factories import make_individual, make_org, make_team, member
from tests.support.smtp import first_link

pytestmark = pytest.mark.sdk

IMPORTS = """
import { Polar } from "@polar-sh/sdk";
import { HTTPValidationError } from "@polar-sh/sdk/models/errors/httpvalidationerror.js";
import { ResourceNotFound } from "@polar-sh/sdk/models/errors/resourcenotfound.js";
import { SDKError } from "@polar-sh/sdk/models/errors/sdkerror.js";
import { SDKValidationError } from "@polar-sh/sdk/models/errors/sdkvalidationerror.js";
const UNKNOWN = "00000000-0000-4000-8000-000000000000";
"""


def test_members_every_call_with_customer_id_and_external_customer_id(
        ts_sdk_0_48, live_server, org, team, owner, token):
    for i in range(20):
        db.session.add(Member(customer_id=team.id, email=f"bulk{i:02}@example.com", role=Role.MEMBER))
    db.session.commit()
    solo = make_individual(org)
    stranger = make_team(make_org("globex", "Globex"), owner="boss@globex.example")
    out = ts_sdk_0_48.run(IMPORTS + """
        const polar = new Polar({ accessToken: INPUT.token, serverURL: INPUT.base_url });
        const m = polar.members;
        const C = INPUT.customer_id, X = INPUT.external_id;

        const first = await m.listMembers({ customerId: C, limit: 10 });
        OUT.list = [first.result.pagination.totalCount, first.result.pagination.maxPage,
                    first.result.items.length];
        const pages = await all(await m.listMembers({ customerId: C, limit: 10 }));
        OUT.pages = pages.map((page) => page.result.items.length);
        OUT.paged = new Set(pages.flatMap((page) => page.result.items.map((i) => i.email))).size;
        const extPages = await all(await m.listMembers({ externalCustomerId: X, limit: 7,
                                                         sorting: ["created_at"] }));
        OUT.ext_pages = extPages.map((page) => page.result.items.length);
        OUT.owner = (await m.listMembers({ externalCustomerId: X, role: "owner" }))
          .result.items.map((i) => i.email);

        const one = await m.createMember({ customerId: C, email: "ts.one@example.com", name: "Ts One",
                                           externalId: "usr_ts1", role: "billing_manager" });
        OUT.create = [one.email, one.name, one.externalId, one.role, one.customerId,
                      one.createdAt instanceof Date];
        OUT.create_again = (await m.createMember({ customerId: C, email: "TS.ONE@example.com" })).id === one.id;
        const two = await m.createMember({ customerId: C, email: "ts.two@example.com", externalId: "usr_ts2" });
        OUT.get = (await m.getMember({ id: one.id })).email;
        OUT.get_external = [
          (await m.getMemberByExternalId({ externalId: "usr_ts1", customerId: C })).id === one.id,
          (await m.getMemberByExternalId({ externalId: "usr_ts2", externalCustomerId: X })).id === two.id,
        ];
        const renamed = await m.updateMember({ id: one.id, memberUpdate: { name: "Ts Uno", role: "member" } });
        OUT.update = [renamed.name, renamed.role];
        const moved = await m.updateMemberByExternalId({
          externalId: "usr_ts2", externalCustomerId: X,
          memberUpdate: { name: null, role: "billing_manager" } });  // no email in this SDK's MemberUpdate
        OUT.update_external = [moved.email, moved.name, moved.role];
        const byCustomer = await m.updateMemberByExternalId({ externalId: "usr_ts2", customerId: C,
                                                              memberUpdate: { name: "Deux" } });
        OUT.update_external_by_customer = byCustomer.name;
        OUT.delete = String(await m.deleteMember({ id: one.id }));
        OUT.delete_external = String(await m.deleteMemberByExternalId({ externalId: "usr_ts2",
                                                                         externalCustomerId: X }));
        OUT.after = (await m.listMembers({ customerId: C, limit: 100 })).result.pagination.totalCount;

        // The SDK itself refuses `role: "owner"` on create (its enum has no owner) ...
        let e = await failure(() => m.createMember({ customerId: C, email: "x@example.com", role: "owner" }),
                              SDKValidationError);
        OUT.add_owner_sdk = e.name;
        // ... and the server's rules come back as the SDK's typed errors.
        e = await failure(() => m.createMember({ customerId: C, email: "not-an-email" }), HTTPValidationError);
        OUT.bad_email = [e.statusCode, e.detail[0].loc];
        e = await failure(() => m.updateMember({ id: INPUT.owner_id, memberUpdate: { role: "member" } }),
                          HTTPValidationError);
        OUT.demote_owner = e.detail[0].loc;
        e = await failure(() => m.deleteMember({ id: INPUT.owner_id }), HTTPValidationError);
        OUT.delete_owner = [e.detail[0].loc, e.detail[0].msg];
        e = await failure(() => m.deleteMemberByExternalId({ externalId: "nobody", customerId: C }),
                          ResourceNotFound);
        OUT.delete_unknown_external = [e.statusCode, e.error, e.detail];
        e = await failure(() => m.getMember({ id: UNKNOWN }), ResourceNotFound);
        OUT.unknown_member = [e.statusCode, e.error, e.detail];
        e = await failure(() => m.getMemberByExternalId({ externalId: "usr_ts1" }), HTTPValidationError);
        OUT.no_customer = e.detail[0].loc;
        e = await failure(() => m.listMembers({ customerId: INPUT.stranger_id }), SDKError);
        OUT.other_org = e.statusCode;
        e = await failure(() => m.createMember({ customerId: INPUT.individual_id, email: "x@example.com" }),
                          SDKError);
        OUT.individual = [e.statusCode, JSON.parse(e.body).error];
        const reader = new Polar({ accessToken: INPUT.read_token, serverURL: INPUT.base_url });
        e = await failure(() => reader.members.createMember({ customerId: C, email: "y@example.com" }), SDKError);
        OUT.missing_scope = e.statusCode;
        report();
        """,
        token=token, read_token=mint_token(org, ["members:read"]), base_url=live_server.url,
        customer_id=str(team.id), external_id="cus_core", owner_id=str(owner.id),
        individual_id=str(solo.id), stranger_id=str(stranger.id),
    )
    assert out["list"] == [23, 3, 10]
    assert out["pages"] == [10, 10, 3] and out["paged"] == 23
    assert out["ext_pages"] == [7, 7, 7, 2]
    assert out["owner"] == ["owner@example.com"]
    assert out["create"] == ["ts.one@example.com", "Ts One", "usr_ts1", "billing_manager", str(team.id),
                             True]
    assert out["create_again"] is True
    assert out["get"] == "ts.one@example.com" and out["get_external"] == [True, True]
    assert out["update"] == ["Ts Uno", "member"]
    assert out["update_external"] == ["ts.two@example.com", None, "billing_manager"]
    assert out["update_external_by_customer"] == "Deux"
    assert out["delete"] == "undefined" and out["delete_external"] == "undefined"
    assert out["after"] == 23
    assert out["add_owner_sdk"] == "SDKValidationError"
    assert out["bad_email"] == [422, ["body", "email"]]
    assert out["demote_owner"] == ["body", "role"]
    assert out["delete_owner"][0] == ["path", "id"] and "owner" in out["delete_owner"][1].lower()
    assert out["delete_unknown_external"][:2] == [404, "ResourceNotFound"]
    assert out["unknown_member"] == [404, "ResourceNotFound", "Member not found."]
    assert out["no_customer"] == ["query"]
    assert out["other_org"] == 404
    assert out["individual"] == [403, "NotPermitted"]
    assert out["missing_scope"] == 403
    db.session.expire_all()
    gone = db.session.scalars(select(Member).where(Member.email.like("ts.%"))).all()
    assert len(gone) == 2 and all(m.deleted_at is not None for m in gone)


def _claim_tokens(mailbox, email: str, count: int) -> list[str]:
    mailbox.wait_for(email, count=count)
    return [first_link(m, "/claim").split("token=", 1)[1] for m in mailbox.to(email)[:count]]


def test_customer_seats_assign_list_resend_revoke_claim(ts_sdk_0_48, live_server, app, team, token,
                                                        mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    out = ts_sdk_0_48.run(IMPORTS + """
        const polar = new Polar({ accessToken: INPUT.token, serverURL: INPUT.base_url });
        const seats = polar.customerSeats;
        const S = INPUT.subscription_id;
        const a = await seats.assignSeat({ subscriptionId: S, email: "seat.a@example.com",
                                           metadata: { team: "core" } });
        const b = await seats.assignSeat({ subscriptionId: S, email: "seat.b@example.com" });
        const c = await seats.assignSeat({ subscriptionId: S, email: "seat.c@example.com", immediateClaim: true });
        OUT.assign = [a.status, a.email, a.seatMetadata, a.member.role, a.invitationTokenExpiresAt instanceof Date,
                      c.status, c.claimedAt instanceof Date];
        const listed = await seats.listSeats({ subscriptionId: S });
        OUT.list = [listed.totalSeats, listed.availableSeats, listed.seats.length];
        let e = await failure(() => seats.assignSeat({ subscriptionId: S, email: "seat.d@example.com" }), SDKError);
        OUT.full = [e.statusCode, JSON.parse(e.body).error];
        const resent = await seats.resendInvitation({ seatId: a.id });
        OUT.resend = [resent.status, resent.invitationTokenExpiresAt instanceof Date];
        const revoked = await seats.revokeSeat({ seatId: b.id });
        OUT.revoke = [revoked.status, revoked.revokedAt instanceof Date];
        OUT.revoke_again = (await seats.revokeSeat({ seatId: b.id })).status;
        e = await failure(() => seats.resendInvitation({ seatId: b.id }), SDKError);
        OUT.resend_revoked = e.statusCode;
        e = await failure(() => seats.revokeSeat({ seatId: UNKNOWN }), SDKError);
        OUT.revoke_unknown = e.statusCode;
        const many = Object.fromEntries([...Array(11).keys()].map((i) => [`k${i}`, i]));
        e = await failure(() => seats.assignSeat({ subscriptionId: S, email: "m@example.com", metadata: many }),
                          HTTPValidationError);
        OUT.metadata = e.detail[0].loc;
        e = await failure(() => seats.getClaimInfo({ invitationToken: "not-a-token" }), SDKError);
        OUT.claim_info_bad = e.statusCode;
        e = await failure(() => seats.claimSeat({ invitationToken: "not-a-token" }), SDKError);
        OUT.claim_bad = e.statusCode;
        report();
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id),
    )
    assert out["assign"] == ["pending", "seat.a@example.com", {"team": "core"}, "member", True,
                             "claimed", True]
    assert out["list"] == [3, 0, 3]
    assert out["full"] == [400, "SeatNotAvailable"]
    assert out["resend"] == ["pending", True]
    assert out["revoke"] == ["revoked", True] and out["revoke_again"] == "revoked"
    assert out["resend_revoked"] == 400 and out["revoke_unknown"] == 404
    assert out["metadata"] == ["body", "metadata"]
    assert out["claim_info_bad"] == 404 and out["claim_bad"] == 400

    old, new = _claim_tokens(mailbox, "seat.a@example.com", 2)
    claimed = ts_sdk_0_48.run(IMPORTS + """
        const publicApi = new Polar({ serverURL: INPUT.base_url });  // public endpoints, no token
        let e = await failure(() => publicApi.customerSeats.getClaimInfo({ invitationToken: INPUT.old }), SDKError);
        OUT.old_link = e.statusCode;
        const info = await publicApi.customerSeats.getClaimInfo({ invitationToken: INPUT.new });
        OUT.info = [info.productName, info.organizationSlug, info.customerEmail, info.canClaim];
        const done = await publicApi.customerSeats.claimSeat({ invitationToken: INPUT.new });
        OUT.claim = [done.seat.status, done.customerSessionToken.slice(0, 10)];
        const me = new Polar({ serverURL: INPUT.base_url });
        const user = await me.customerPortal.customerSession.getAuthenticatedUser(
          { memberSession: done.customerSessionToken });
        OUT.user = [user.type, user.email, user.role];
        e = await failure(() => publicApi.customerSeats.claimSeat({ invitationToken: INPUT.new }), SDKError);
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
    statuses = sorted(s.status.value for s in db.session.scalars(select(Seat)))
    assert statuses == ["claimed", "claimed", "revoked"]


def test_customer_sessions_and_the_customer_portal(ts_sdk_0_48, live_server, app, team, owner, billing,
                                                   dev, token):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    out = ts_sdk_0_48.run(IMPORTS + """
        const base = INPUT.base_url;
        const vendor = new Polar({ accessToken: INPUT.token, serverURL: base });
        const s = await vendor.customerSessions.create({ customerId: INPUT.customer_id,
                                                         memberId: INPUT.billing_id,
                                                         returnUrl: "https://vendor.example/back" });
        OUT.session = [s.token.slice(0, 10), s.customer.type, s.customerId, s.returnUrl,
                       s.customerPortalUrl.startsWith(base + "/acme/portal/enter?token="),
                       s.customer.avatarUrl, s.expiresAt instanceof Date];
        const byExt = await vendor.customerSessions.create({ externalCustomerId: "cus_core" });
        OUT.owner_session = (await vendor.customerPortal.customerSession.getAuthenticatedUser(
          { memberSession: byExt.token })).role;
        let e = await failure(() => vendor.customerSessions.create({ customerId: INPUT.customer_id,
                                                                     memberId: UNKNOWN }),
                              HTTPValidationError);
        OUT.session_bad_member = e.detail[0].loc;
        const customer = await vendor.customers.get({ id: INPUT.customer_id });
        OUT.customer = [customer.type, customer.name, customer.avatarUrl];

        const security = { memberSession: s.token };
        const portal = new Polar({ accessToken: s.token, serverURL: base });
        OUT.introspect = (await portal.customerPortal.customerSession.introspect(security)).expiresAt instanceof Date;
        OUT.user = (await portal.customerPortal.customerSession.getAuthenticatedUser(security)).email;
        const me = await portal.customerPortal.customers.get(security);
        OUT.me = [me.type, me.name];
        const pm = portal.customerPortal.members;
        const listed = await pm.listMembers({ limit: 2 });
        OUT.list = [listed.result.pagination.totalCount, listed.result.pagination.maxPage,
                    listed.result.items.length];
        OUT.iter = (await all(await pm.listMembers({ limit: 2 })))
          .flatMap((page) => page.result.items.map((m) => m.email)).sort();
        const added = await pm.addMember({ email: "portal.new@example.com", name: "Portal New" });
        OUT.add = [added.role, added.name];
        OUT.add_again = (await pm.addMember({ email: "PORTAL.NEW@example.com" })).id === added.id;
        // This SDK's CustomerPortalMemberUpdate has only `role`.
        const changed = await pm.updateMember({ id: added.id, customerPortalMemberUpdate: { role: "billing_manager" } });
        OUT.update = [changed.name, changed.role];
        OUT.remove = String(await pm.removeMember({ id: added.id }));
        e = await failure(() => pm.addMember({ email: "o@example.com", role: "owner" }), HTTPValidationError);
        OUT.add_owner = [e.statusCode, e.detail[0].loc];
        e = await failure(() => pm.updateMember({ id: INPUT.billing_id, customerPortalMemberUpdate: { role: "member" } }),
                          HTTPValidationError);
        OUT.own_role = e.detail[0].loc;
        e = await failure(() => pm.updateMember({ id: INPUT.dev_id, customerPortalMemberUpdate: { role: "owner" } }),
                          HTTPValidationError);
        OUT.transfer_by_billing = e.detail[0].loc;
        e = await failure(() => pm.removeMember({ id: INPUT.billing_id }), HTTPValidationError);
        OUT.remove_self = e.detail[0].loc;
        e = await failure(() => pm.removeMember({ id: INPUT.owner_id }), HTTPValidationError);
        OUT.remove_owner = e.detail[0].loc;
        e = await failure(() => pm.updateMember({ id: UNKNOWN, customerPortalMemberUpdate: { role: "member" } }), SDKError);
        OUT.unknown = e.statusCode;

        const ps = portal.customerPortal.seats;
        const seat = await ps.assignSeat(security, { email: "portal.seat@example.com" });
        OUT.seat = [seat.status, seat.email];
        OUT.seats = [(await ps.listSeats(security, {})).availableSeats,
                     (await ps.listSeats(security, { subscriptionId: seat.subscriptionId })).totalSeats];
        const resent = await ps.resendInvitation(security, { seatId: seat.id });
        OUT.resend = [resent.status, resent.invitationTokenExpiresAt instanceof Date];
        OUT.revoke = (await ps.revokeSeat(security, { seatId: seat.id })).status;
        e = await failure(() => ps.resendInvitation(security, { seatId: seat.id }), SDKError);
        OUT.resend_revoked = e.statusCode;

        const plainToken = (await vendor.customerSessions.create({ customerId: INPUT.customer_id,
                                                                   memberId: INPUT.dev_id })).token;
        const plain = new Polar({ accessToken: plainToken, serverURL: base });
        e = await failure(() => plain.customerPortal.members.listMembers({}), SDKError);
        OUT.plain_list = e.statusCode;
        e = await failure(() => plain.customerPortal.members.addMember({ email: "z@example.com" }), SDKError);
        OUT.plain_add = e.statusCode;
        e = await failure(() => plain.customerPortal.seats.resendInvitation({ memberSession: plainToken },
                                                                            { seatId: seat.id }), SDKError);
        OUT.plain_resend = e.statusCode;
        OUT.plain_reads_seats = (await plain.customerPortal.seats.listSeats({ memberSession: plainToken }, {})).totalSeats;
        e = await failure(() => vendor.customerPortal.members.listMembers({}), SDKError);
        OUT.org_token_in_portal = e.statusCode;
        report();
        """,
        token=token, base_url=live_server.url, customer_id=str(team.id), owner_id=str(owner.id),
        billing_id=str(billing.id), dev_id=str(dev.id),
    )
    assert out["session"] == ["polar_mst_", "team", str(team.id), "https://vendor.example/back", True,
                              gravatar(team.email), True]
    assert out["owner_session"] == "owner"
    assert out["session_bad_member"] == ["body", "member_id"]
    assert out["customer"] == ["team", "Core Team", gravatar(team.email)]
    assert out["introspect"] is True
    assert out["user"] == "billing@example.com"
    assert out["me"] == ["team", "Core Team"]
    assert out["list"] == [3, 2, 2]
    assert out["iter"] == ["billing@example.com", "dev@example.com", "owner@example.com"]
    assert out["add"] == ["member", "Portal New"] and out["add_again"] is True
    assert out["update"] == ["Portal New", "billing_manager"] and out["remove"] == "undefined"
    assert out["add_owner"] == [422, ["body", "role"]]
    assert out["own_role"] == ["path", "id"]
    assert out["transfer_by_billing"] == ["body", "role"]
    assert out["remove_self"] == ["path", "id"] and out["remove_owner"] == ["path", "id"]
    assert out["unknown"] == 404
    assert out["seat"] == ["pending", "portal.seat@example.com"]
    assert out["seats"] == [2, 3]
    assert out["resend"] == ["pending", True] and out["revoke"] == "revoked"
    assert out["resend_revoked"] == 400
    assert out["plain_list"] == 403 and out["plain_add"] == 403 and out["plain_resend"] == 403
    assert out["plain_reads_seats"] == 3
    assert out["org_token_in_portal"] == 401
    db.session.expire_all()
    assert member(team, "billing@example.com").role is Role.BILLING_MANAGER
    assert db.session.scalar(select(Member).where(Member.email == "portal.new@example.com")).deleted_at


def test_customers_rate_limits_and_claimed_subscriptions(ts_sdk_0_48, live_server, team, dev, token):
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    db.session.add(Seat(subscription_id=sub.id, status=SeatStatus.CLAIMED, email=dev.email,
                        member_id=dev.id, claimed_at=sub.created_at))
    db.session.commit()
    out = ts_sdk_0_48.run(IMPORTS + """
        const base = INPUT.base_url;
        const polar = new Polar({ accessToken: INPUT.token, serverURL: base });
        const made = await polar.customers.create({ type: "team", name: "Initech", email: "peter@initech.example",
                                                    externalId: "cus_ini",
                                                    owner: { email: "peter@initech.example", name: "Peter" } });
        OUT.create = [made.type, made.name, made.externalId, made.avatarUrl];
        OUT.get = (await polar.customers.get({ id: made.id })).name;
        OUT.get_external = (await polar.customers.getExternal({ externalId: "cus_ini" })).id === made.id;
        OUT.list = (await all(await polar.customers.list({ limit: 1 })))
          .flatMap((page) => page.result.items.map((c) => c.name)).sort();
        OUT.update = (await polar.customers.update({ id: made.id, customerUpdate:
                                                     { name: "Initrode", metadata: { tier: 2 } } })).metadata;
        let e = await failure(() => polar.customers.get({ id: UNKNOWN }), ResourceNotFound);
        OUT.unknown = e.statusCode;
        e = await failure(() => polar.customers.create({ type: "team", name: "X" }), HTTPValidationError);
        OUT.no_owner = e.detail[0].loc;

        const seat = await polar.customerSeats.assignSeat({ subscriptionId: INPUT.subscription_id,
                                                            email: "r@example.com" });
        e = await failure(() => polar.customerSeats.resendInvitation({ seatId: seat.id }), SDKError);
        OUT.resend_too_soon = [e.statusCode, Number(e.headers.get("retry-after")) > 0];

        const seats = new Polar({ serverURL: base }).customerPortal.seats;
        const security = { memberSession: INPUT.member_token };
        const page = await seats.listClaimedSubscriptions(security, { page: 1, limit: 10 });
        OUT.claimed = [page.result.pagination.totalCount, page.result.items.map((s) =>
          [s.id, s.productId, s.customerId, s.product.name, s.seats, s.status, s.amount,
           s.product.organization.slug])];
        report();
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id),
        member_token=member_token(dev),
    )
    assert out["create"] == ["team", "Initech", "cus_ini", gravatar("peter@initech.example")]
    assert out["get"] == "Initech" and out["get_external"] is True
    assert out["list"] == ["Core Team", "Initech"]
    assert out["update"] == {"tier": 2}
    assert out["unknown"] == 404 and out["no_owner"] == ["body", "owner"]
    assert out["resend_too_soon"] == [429, True]
    assert out["claimed"] == [1, [[str(sub.id), str(sub.product_id), str(team.id), "Team plan", 3,
                                   "active", 0, "acme"]]]
