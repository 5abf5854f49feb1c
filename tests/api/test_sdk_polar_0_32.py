"""polar-sdk==0.32.0 (`from polar_sdk import Polar`, `server_url=`): the seed documents' snippets
as written (shared/reference/seeds/000 and 003), pointed at the real server on loopback, including
`res.next()` paging over more than one page; plus the older SDK's `members.list_members`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Member, Role, Subscription
from tests.api.conftest import member_token

pytestmark = pytest.mark.sdk


@pytest.fixture
def crowd(team):
    """23 members in all: three pages of ten."""
    for i in range(20):
        db.session.add(Member(customer_id=team.id, email=f"crowd{i:02}@example.com", role=Role.MEMBER))
    db.session.commit()
    return team


def test_seed_customer_portal_members_snippets(polar_sdk_0, live_server, crowd, owner, dev):
    out = polar_sdk_0.run(
        """
        from polar_sdk import Polar, models

        # seeds/000: list_members, as written, paging with res.next()
        pages, emails = 0, []
        with Polar(
            access_token=INPUT["member_token"],
            server_url=INPUT["base_url"],
        ) as polar:

            res = polar.customer_portal.members.list_members(page=1, limit=10)

            while res is not None:
                # Handle items
                pages += 1
                emails += [m.email for m in res.result.items]
                res = res.next()
        OUT["list_members"] = [pages, len(emails), len(set(emails))]

        # seeds/000: add_member, as written
        with Polar(
            access_token=INPUT["member_token"],
            server_url=INPUT["base_url"],
        ) as polar:

            res = polar.customer_portal.members.add_member(request={
                "email": "Domenica.Schamberger@yahoo.com",
            })

            # Handle response
            print(res)
            OUT["add_member"] = [res.email, res.role.value if hasattr(res.role, "value") else res.role]

        # seeds/000: update_member, as written (an empty update changes nothing)
        with Polar(
            access_token=INPUT["member_token"],
            server_url=INPUT["base_url"],
        ) as polar:

            res = polar.customer_portal.members.update_member(id=INPUT["dev_id"], customer_portal_member_update={})

            # Handle response
            print(res)
            OUT["update_member"] = [res.email, str(res.role.value if hasattr(res.role, "value") else res.role)]

        # seeds/000: remove_member, as written
        with Polar(
            access_token=INPUT["member_token"],
            server_url=INPUT["base_url"],
        ) as polar:

            polar.customer_portal.members.remove_member(id=INPUT["dev_id"])

            # Use the SDK ...
            OUT["remove_member"] = "done"

        # rule violations arrive as the older SDK's HTTPValidationError
        with Polar(access_token=INPUT["member_token"], server_url=INPUT["base_url"]) as polar:
            try:
                polar.customer_portal.members.add_member(request={"email": "o@example.com", "role": "owner"})
                OUT["add_owner"] = "no error"
            except models.HTTPValidationError as exc:
                OUT["add_owner"] = [exc.data.detail[0].loc, exc.status_code if hasattr(exc, "status_code") else None]
            try:
                polar.customer_portal.members.remove_member(id=INPUT["owner_id"])
                OUT["remove_self"] = "no error"
            except models.HTTPValidationError as exc:
                OUT["remove_self"] = exc.data.detail[0].loc
        report()
        """,
        base_url=live_server.url, member_token=member_token(owner), dev_id=str(dev.id),
        owner_id=str(owner.id),
    )
    assert out["list_members"] == [3, 23, 23]
    assert out["add_member"] == ["Domenica.Schamberger@yahoo.com", "member"]
    assert out["update_member"] == ["dev@example.com", "member"]
    assert out["remove_member"] == "done"
    assert out["add_owner"][0] == ["body", "role"]
    assert out["remove_self"] == ["path", "id"]
    db.session.expire_all()
    assert db.session.scalar(select(Member).where(Member.email == "dev@example.com")).deleted_at
    assert db.session.scalar(select(Member).where(Member.email == "Domenica.Schamberger@yahoo.com"))


def test_seed_customer_portal_seats_resend_snippet(polar_sdk_0, live_server, app, api, team, owner,
                                                   mailbox):
    app.config["RESEND_COOLDOWN_SECONDS"] = 0
    sub = db.session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
    seat_id = api.post("/v1/customer-seats", json={"subscription_id": str(sub.id),
                                                   "email": "invitee@example.com"}).get_json()["id"]
    out = polar_sdk_0.run(
        """
        # seeds/003, as written
        import polar_sdk
        from polar_sdk import Polar


        with Polar(server_url=INPUT["base_url"]) as polar:

            res = polar.customer_portal.seats.resend_invitation(security=polar_sdk.CustomerPortalSeatsResendInvitationSecurity(
                customer_session=INPUT["member_token"],
            ), seat_id=INPUT["seat_id"])

            # Handle response
            print(res)
            OUT["resend"] = [str(res.status.value if hasattr(res.status, "value") else res.status), res.email]
        report()
        """,
        base_url=live_server.url, member_token=member_token(owner), seat_id=seat_id,
    )
    assert out["resend"] == ["pending", "invitee@example.com"]
    mailbox.wait_for("invitee@example.com", count=2)  # the invitation, then the resent one


def test_older_sdk_members_list_members_pages_with_next(polar_sdk_0, live_server, crowd, token):
    out = polar_sdk_0.run(
        """
        from polar_sdk import Polar

        with Polar(access_token=INPUT["token"], server_url=INPUT["base_url"]) as polar:
            res = polar.members.list_members(customer_id=INPUT["customer_id"], page=1, limit=10)
            pages, emails = 0, []
            while res is not None:
                pages += 1
                emails += [m.email for m in res.result.items]
                res = res.next()
            OUT["by_customer"] = [pages, len(set(emails))]
            res = polar.members.list_members(external_customer_id="cus_core", role="owner")
            OUT["owner"] = [m.email for m in res.result.items]
        report()
        """,
        base_url=live_server.url, token=token, customer_id=str(crowd.id),
    )
    assert out["by_customer"] == [3, 23]
    assert out["owner"] == ["owner@example.com"]
