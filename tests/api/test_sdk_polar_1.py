"""polar-sdk==1.0.2, unchanged, against the real server on loopback (`from polar.v2026_10 import
Polar`, `base_url=`). Each rule violation must reach the caller as the SDK's typed exception."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, Seat, SeatStatus, Subscription
from tests.api.conftest import member_token, mint_token
from tests.factories import make_individual, make_org, make_team, member
from tests.support.smtp import first_link

pytestmark = pytest.mark.sdk


def test_customers_members_all_ten_calls(polar_sdk_1, live_server, org, team, owner, token):
    for i in range(20):
        db.session.add(Member(customer_id=team.id, email=f"bulk{i:02}@example.com", role=Role.MEMBER))
    db.session.commit()
    solo = make_individual(org)
    stranger = make_team(make_org("globex", "Globex"), owner="boss@globex.example")
    out = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        cm = polar.customers.members
        C, X = INPUT["customer_id"], INPUT["external_id"]

        page = cm.list(C, limit=10)
        OUT["list"] = [page.pagination.total_count, page.pagination.max_page, len(page.items)]
        OUT["iter_list"] = [m.email for m in cm.iter_list(C, limit=10)]
        OUT["list_external"] = [m.email for m in cm.list_external(X, role="owner").items]
        OUT["iter_list_external"] = len(list(cm.iter_list_external(X, limit=7, sorting=["created_at"])))

        one = cm.create(C, email="sdk.one@example.com", name="Sdk One", external_id="usr_sdk1",
                        role="billing_manager")
        OUT["create"] = [one.email, one.name, one.external_id, one.role, one.customer_id]
        two = cm.create_external(X, email="sdk.two@example.com", external_id="usr_sdk2")
        OUT["create_external"] = [two.role, two.customer_id]
        OUT["create_again"] = cm.create(C, email="SDK.ONE@example.com").id == one.id
        OUT["get"] = cm.get(C, one.id).email
        OUT["get_external"] = cm.get_external(X, "usr_sdk2").email
        updated = cm.update(C, one.id, name="Sdk Uno", role="member")
        OUT["update"] = [updated.name, updated.role]
        moved = cm.update_external(X, "usr_sdk2", email="sdk.deux@example.com", name=None)
        OUT["update_external"] = [moved.email, moved.name]
        OUT["delete"] = cm.delete(C, one.id)
        OUT["delete_external"] = cm.delete_external(X, "usr_sdk2")
        OUT["after"] = cm.list(C, limit=100).pagination.total_count

        e = failure(lambda: cm.create(C, email="x@example.com", role="owner"), errors.HTTPValidationError)
        OUT["add_owner"] = [e.status_code, e.error.detail[0].loc]
        e = failure(lambda: cm.create(C, email="not-an-email"), errors.HTTPValidationError)
        OUT["bad_email"] = e.error.detail[0].loc
        e = failure(lambda: cm.update(C, INPUT["owner_id"], role="member"), errors.HTTPValidationError)
        OUT["demote_owner"] = e.error.detail[0].loc
        e = failure(lambda: cm.delete(C, INPUT["owner_id"]), errors.HTTPValidationError)
        OUT["delete_owner"] = e.error.detail[0].loc
        e = failure(lambda: cm.get(C, "00000000-0000-4000-8000-000000000000"), errors.ResourceNotFound)
        OUT["unknown_member"] = [e.status_code, e.error.error, e.error.detail]
        e = failure(lambda: cm.get_external(X, "nobody"), errors.ResourceNotFound)
        OUT["unknown_external"] = e.status_code
        e = failure(lambda: cm.list(INPUT["stranger_id"]), errors.ResourceNotFound)
        OUT["other_org"] = e.status_code
        e = failure(lambda: cm.create(INPUT["individual_id"], email="x@example.com"), errors.NotPermitted)
        OUT["individual"] = [e.status_code, e.error.error]
        e = failure(lambda: cm.create(C, email="y@example.com", request_access_token=INPUT["read_token"]),
                    errors.NotPermitted)
        OUT["missing_scope"] = e.status_code
        report()
        """,
        token=token, read_token=mint_token(org, ["members:read"]), base_url=live_server.url,
        customer_id=str(team.id), external_id="cus_core", owner_id=str(owner.id),
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
    assert out["delete"] is None and out["delete_external"] is None and out["after"] == 23
    assert out["add_owner"] == [422, ["body", "role"]]
    assert out["bad_email"] == ["body", "email"]
    assert out["demote_owner"] == ["body", "role"]
    assert out["delete_owner"] == ["path", "id"]
    assert out["unknown_member"] == [404, "ResourceNotFound", "Member not found."]
    assert out["unknown_external"] == 404 and out["other_org"] == 404
    assert out["individual"] == [403, "NotPermitted"]
    assert out["missing_scope"] == 403
    db.session.expire_all()
    gone = db.session.scalars(select(Member).where(Member.email.like("sdk.%"))).all()
    assert len(gone) == 2 and all(m.deleted_at is not None for m in gone)


def _claim_tokens(mailbox, email: str, count: int) -> list[str]:
    """The claim tokens of the first `count` invitations to `email`, oldest first."""
    mailbox.wait_for(email, count=count)
    return [first_link(m, "/claim").split("token=", 1)[1] for m in mailbox.to(email)[:count]]


def test_customer_seats_assign_list_resend_revoke_claim(polar_sdk_1, live_server, app, team, token,
                                                        mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    out = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        seats = polar.customer_seats
        S = INPUT["subscription_id"]
        a = seats.assign_seat(subscription_id=S, email="seat.a@example.com", metadata={"team": "core"})
        b = seats.assign_seat(subscription_id=S, email="seat.b@example.com")
        c = seats.assign_seat(subscription_id=S, email="seat.c@example.com", immediate_claim=True)
        OUT["assign"] = [a.status, a.email, a.seat_metadata, a.member.role, c.status]
        listed = seats.list_seats(subscription_id=S)
        OUT["list"] = [listed.total_seats, listed.available_seats, len(listed.seats)]
        e = failure(lambda: seats.assign_seat(subscription_id=S, email="seat.d@example.com"),
                    errors.CustomerSeatsAssignSeat400Error)
        OUT["full"] = e.status_code
        resent = seats.resend_invitation(a.id)
        OUT["resend"] = [resent.status, resent.invitation_token_expires_at is not None]
        revoked = seats.revoke_seat(b.id)
        OUT["revoke"] = [revoked.status, revoked.revoked_at is not None]
        OUT["revoke_again"] = seats.revoke_seat(b.id).status
        e = failure(lambda: seats.resend_invitation(b.id), errors.CustomerSeatsResendInvitation400Error)
        OUT["resend_revoked"] = e.status_code
        e = failure(lambda: seats.revoke_seat("00000000-0000-4000-8000-000000000000"),
                    errors.CustomerSeatsRevokeSeat404Error)
        OUT["revoke_unknown"] = e.status_code
        e = failure(lambda: seats.assign_seat(subscription_id=S, email="m@example.com",
                                              metadata={f"k{i}": i for i in range(11)}),
                    errors.HTTPValidationError)
        OUT["metadata"] = e.error.detail[0].loc
        e = failure(lambda: seats.get_claim_info("not-a-token"), errors.CustomerSeatsGetClaimInfo404Error)
        OUT["claim_info_bad"] = e.status_code
        e = failure(lambda: seats.claim_seat(invitation_token="not-a-token"),
                    errors.CustomerSeatsClaimSeat400Error)
        OUT["claim_bad"] = e.status_code
        report()
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id),
    )
    assert out["assign"] == ["pending", "seat.a@example.com", {"team": "core"}, "member", "claimed"]
    assert out["list"] == [3, 0, 3]
    assert out["full"] == 400
    assert out["resend"] == ["pending", True]
    assert out["revoke"] == ["revoked", True] and out["revoke_again"] == "revoked"
    assert out["resend_revoked"] == 400 and out["revoke_unknown"] == 404
    assert out["metadata"] == ["body", "metadata"]
    assert out["claim_info_bad"] == 404 and out["claim_bad"] == 400

    old, new = _claim_tokens(mailbox, "seat.a@example.com", 2)
    assert old != new
    claimed = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        public = Polar("no-token-needed", base_url=INPUT["base_url"])  # public endpoints
        e = failure(lambda: public.customer_seats.get_claim_info(INPUT["old"]),
                    errors.CustomerSeatsGetClaimInfo404Error)
        OUT["old_link"] = e.status_code
        info = public.customer_seats.get_claim_info(INPUT["new"])
        OUT["info"] = [info.product_name, info.organization_slug, info.customer_email, info.can_claim]
        done = public.customer_seats.claim_seat(invitation_token=INPUT["new"])
        OUT["claim"] = [done.seat.status, done.customer_session_token[:10]]
        me = Polar(done.customer_session_token, base_url=INPUT["base_url"])
        user = me.customer_portal.customer_session.get_authenticated_user()
        OUT["user"] = [user.type, user.email, user.role]
        e = failure(lambda: public.customer_seats.claim_seat(invitation_token=INPUT["new"]),
                    errors.CustomerSeatsClaimSeat400Error)
        OUT["claim_twice"] = e.status_code
        report()
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


def test_customer_sessions_and_the_customer_portal(polar_sdk_1, live_server, app, team, owner, billing,
                                                   dev, token):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    out = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        base = INPUT["base_url"]
        vendor = Polar(INPUT["token"], base_url=base)
        s = vendor.customer_sessions.create(customer_id=INPUT["customer_id"], member_id=INPUT["billing_id"],
                                            return_url="https://vendor.example/back")
        OUT["session"] = [s.token[:10], s.customer.type, s.customer_id, s.return_url,
                          s.customer_portal_url.startswith(base + "/acme/portal/enter?token=")]
        by_ext = vendor.customer_sessions.create(external_customer_id="cus_core")
        OUT["owner_session"] = Polar(by_ext.token, base_url=base).customer_portal.customer_session \\
            .get_authenticated_user().role
        e = failure(lambda: vendor.customer_sessions.create(customer_id=INPUT["customer_id"],
                                                             member_id="00000000-0000-4000-8000-000000000000"),
                    errors.HTTPValidationError)
        OUT["session_bad_member"] = e.error.detail[0].loc

        portal = Polar(s.token, base_url=base)
        OUT["introspect"] = portal.customer_portal.customer_session.introspect().return_url
        OUT["user"] = portal.customer_portal.customer_session.get_authenticated_user().email
        pm = portal.customer_portal.members
        listed = pm.list_members(limit=2)
        OUT["list"] = [listed.pagination.total_count, listed.pagination.max_page, len(listed.items)]
        OUT["iter"] = sorted(m.email for m in pm.iter_list_members(limit=2))
        added = pm.add_member(email="portal.new@example.com", name="Portal New")
        OUT["add"] = [added.role, added.name]
        OUT["add_again"] = pm.add_member(email="PORTAL.NEW@example.com").id == added.id
        changed = pm.update_member(added.id, name="Portal Renamed", role="billing_manager")
        OUT["update"] = [changed.name, changed.role]
        OUT["remove"] = pm.remove_member(added.id)
        e = failure(lambda: pm.add_member(email="o@example.com", role="owner"), errors.HTTPValidationError)
        OUT["add_owner"] = [e.status_code, e.error.detail[0].loc]
        e = failure(lambda: pm.update_member(INPUT["billing_id"], role="member"), errors.HTTPValidationError)
        OUT["own_role"] = e.error.detail[0].loc
        e = failure(lambda: pm.update_member(INPUT["dev_id"], role="owner"), errors.HTTPValidationError)
        OUT["transfer_by_billing"] = e.error.detail[0].loc
        e = failure(lambda: pm.remove_member(INPUT["billing_id"]), errors.HTTPValidationError)
        OUT["remove_self"] = e.error.detail[0].loc
        e = failure(lambda: pm.remove_member(INPUT["owner_id"]), errors.HTTPValidationError)
        OUT["remove_owner"] = e.error.detail[0].loc
        e = failure(lambda: pm.update_member("00000000-0000-4000-8000-000000000000", name="x"),
                    errors.CustomerPortalMembersUpdateMember404Error)
        OUT["unknown"] = e.status_code

        ps = portal.customer_portal.seats
        seat = ps.assign_seat(email="portal.seat@example.com")
        OUT["seat"] = [seat.status, seat.email]
        OUT["seats"] = [ps.list_seats().available_seats, ps.list_seats(subscription_id=seat.subscription_id).total_seats]
        OUT["resend"] = ps.resend_invitation(seat.id).status
        OUT["revoke"] = ps.revoke_seat(seat.id).status

        plain = Polar(vendor.customer_sessions.create(customer_id=INPUT["customer_id"],
                                                      member_id=INPUT["dev_id"]).token, base_url=base)
        e = failure(lambda: plain.customer_portal.members.list_members(),
                    errors.CustomerPortalMembersListMembers403Error)
        OUT["plain_list"] = e.status_code
        e = failure(lambda: plain.customer_portal.members.add_member(email="z@example.com"),
                    errors.CustomerPortalMembersAddMember403Error)
        OUT["plain_add"] = e.status_code
        e = failure(lambda: plain.customer_portal.seats.assign_seat(email="z@example.com"),
                    errors.CustomerPortalSeatsAssignSeat403Error)
        OUT["plain_seat"] = e.status_code
        OUT["plain_reads_seats"] = plain.customer_portal.seats.list_seats().total_seats
        e = failure(lambda: vendor.customer_portal.members.list_members(),
                    errors.CustomerPortalMembersListMembers401Error)
        OUT["org_token_in_portal"] = e.status_code
        report()
        """,
        token=token, base_url=live_server.url, customer_id=str(team.id), owner_id=str(owner.id),
        billing_id=str(billing.id), dev_id=str(dev.id),
    )
    assert out["session"] == ["polar_mst_", "team", str(team.id), "https://vendor.example/back", True]
    assert out["owner_session"] == "owner"
    assert out["session_bad_member"] == ["body", "member_id"]
    assert out["introspect"] == "https://vendor.example/back"
    assert out["user"] == "billing@example.com"
    assert out["list"] == [3, 2, 2]
    assert out["iter"] == ["billing@example.com", "dev@example.com", "owner@example.com"]
    assert out["add"] == ["member", "Portal New"] and out["add_again"] is True
    assert out["update"] == ["Portal Renamed", "billing_manager"] and out["remove"] is None
    assert out["add_owner"] == [422, ["body", "role"]]
    assert out["own_role"] == ["path", "id"]
    assert out["transfer_by_billing"] == ["body", "role"]
    assert out["remove_self"] == ["path", "id"] and out["remove_owner"] == ["path", "id"]
    assert out["unknown"] == 404
    assert out["seat"] == ["pending", "portal.seat@example.com"]
    assert out["seats"] == [2, 3] and out["resend"] == "pending" and out["revoke"] == "revoked"
    assert out["plain_list"] == 403 and out["plain_add"] == 403 and out["plain_seat"] == 403
    assert out["plain_reads_seats"] == 3
    assert out["org_token_in_portal"] == 401
    db.session.expire_all()
    assert member(team, "billing@example.com").role is Role.BILLING_MANAGER
    assert db.session.scalar(select(Member).where(Member.email == "portal.new@example.com")).deleted_at


def test_customers_and_rate_limits(polar_sdk_1, live_server, team, token):
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    out = polar_sdk_1.run(
        """
        from polar.base import PolarRateLimitError
        from polar.v2026_10 import Polar, errors
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        made = polar.customers.create(type="team", name="Initech", email="peter@initech.example",
                                      external_id="cus_ini", owner={"email": "peter@initech.example",
                                                                    "name": "Peter"})
        OUT["create"] = [made.type, made.name, made.external_id]
        OUT["get"] = polar.customers.get(made.id).name
        OUT["get_external"] = polar.customers.get_external("cus_ini").id == made.id
        OUT["list"] = [c.name for c in polar.customers.iter_list(limit=1)]
        OUT["update"] = polar.customers.update(made.id, name="Initrode", metadata={"tier": 2}).metadata
        OUT["owner"] = [m.email for m in polar.customers.members.list(made.id, role="owner").items]
        e = failure(lambda: polar.customers.get("00000000-0000-4000-8000-000000000000"), errors.ResourceNotFound)
        OUT["unknown"] = e.status_code
        e = failure(lambda: polar.customers.create(type="team", name="X"), errors.HTTPValidationError)
        OUT["no_owner"] = e.error.detail[0].loc

        seat = polar.customer_seats.assign_seat(subscription_id=INPUT["subscription_id"], email="r@example.com")
        e = failure(lambda: polar.customer_seats.resend_invitation(seat.id), PolarRateLimitError)
        OUT["resend_too_soon"] = [e.status_code, isinstance(e.retry_after, int) and e.retry_after > 0]
        report()
        """,
        token=token, base_url=live_server.url, subscription_id=str(sub.id),
    )
    assert out["create"] == ["team", "Initech", "cus_ini"]
    assert out["get"] == "Initech" and out["get_external"] is True
    assert sorted(out["list"]) == ["Core Team", "Initech"]
    assert out["update"] == {"tier": 2}
    assert out["owner"] == ["peter@initech.example"]
    assert out["unknown"] == 404 and out["no_owner"] == ["body", "owner"]
    assert out["resend_too_soon"] == [429, True]


def test_customer_portal_claimed_subscriptions(polar_sdk_1, live_server, org, team, dev, token):
    """The SDK's strict parser accepts our `CustomerSubscription`; `iter_…` walks every page."""
    first = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    extra = [Subscription(customer_id=team.id, product_name=f"Add-on {i}", seats=2,
                          created_at=first.created_at + timedelta(seconds=i)) for i in (1, 2)]
    db.session.add_all(extra)
    db.session.flush()
    for sub in (first, *extra):
        db.session.add(Seat(subscription_id=sub.id, status=SeatStatus.CLAIMED, email=dev.email,
                            member_id=dev.id, claimed_at=sub.created_at))
    db.session.commit()
    out = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        base = INPUT["base_url"]
        seats = Polar(INPUT["member_token"], base_url=base).customer_portal.seats
        page = seats.list_claimed_subscriptions(page=1, limit=2)
        OUT["page"] = [type(page).__name__, page.pagination.total_count, page.pagination.max_page,
                       len(page.items)]
        one = page.items[0]
        OUT["first"] = [type(one).__name__, type(one.product).__name__, one.id, one.product_id,
                        one.customer_id, one.product.name, one.seats, one.status, one.amount,
                        one.product.organization.id, one.product.organization.slug,
                        one.product.organization.name]
        OUT["iter"] = [(s.id, s.product.name) for s in seats.iter_list_claimed_subscriptions(limit=2)]
        vendor = Polar(INPUT["token"], base_url=base)
        e = failure(lambda: vendor.customer_portal.seats.list_claimed_subscriptions(),
                    errors.CustomerPortalSeatsListClaimedSubscriptions401Error)
        OUT["org_token"] = e.status_code
        report()
        """,
        token=token, member_token=member_token(dev), base_url=live_server.url,
    )
    assert out["page"] == ["ListResourceCustomerSubscription", 3, 2, 2]
    assert out["first"] == ["CustomerSubscription", "CustomerSubscriptionProduct", str(first.id),
                            str(first.product_id), str(team.id), "Team plan", 3, "active", 0,
                            str(org.id), "acme", "Acme Analytics"]
    assert out["iter"] == [[str(s.id), s.product_name] for s in (first, *extra)]
    assert out["org_token"] == 401
