"""Sign-in rules (DESIGN.md 15 and 16): a class per service function, a test per rule."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidToken, PortalError, RateLimited
from app.models import OutboxEmail, Role, SignInToken, utcnow
from app.security import hash_token
from app.services import mail, signin
from tests.factories import make_org, make_team
from tests.support.smtp import code_of, first_link

BASE = "http://portal.test"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, owner="olivia@example.com", members={"maya@example.com": Role.MEMBER})


def request(session, org, email, **kw):
    result = signin.request_sign_in(session, org, email, base_url=BASE, **kw)
    session.commit()
    mail.join_background_delivery()  # the mail leaves from a thread after commit
    session.expire_all()
    return result


class TestRequestSignIn:
    def test_known_email_gets_link_and_code_by_email(self, session, org, team, mailbox):
        result = request(session, org, "Maya@Example.com")
        message = mailbox.wait_for("maya@example.com")
        assert first_link(message, "/acme/login/verify?token=") == f"{BASE}/acme/login/verify?token={result.token}"
        assert code_of(message) == result.code
        assert "expires in 15 minutes" in message.get_body(("plain",)).get_content()

    def test_only_hashes_are_stored(self, session, org, team):
        result = request(session, org, "maya@example.com")
        row = session.scalar(select(SignInToken))
        assert row.token_hash == hash_token(result.token)
        assert result.token not in (row.token_hash, row.code_hash)
        assert result.code not in row.code_hash
        sent = session.scalar(select(OutboxEmail))
        assert result.token not in sent.text_body and result.token not in sent.html_body

    def test_unknown_email_answers_the_same_and_sends_nothing(self, session, org, team, mailbox):
        known = request(session, org, "maya@example.com")
        unknown = request(session, org, "nobody@example.com")
        assert type(known) is type(unknown) and len(unknown.token) == len(known.token)
        assert mailbox.to("nobody@example.com") == []
        assert session.scalar(select(SignInToken).where(SignInToken.email == "nobody@example.com"))

    def test_expires_in_fifteen_minutes(self, session, org, team):
        request(session, org, "maya@example.com")
        row = session.scalar(select(SignInToken))
        assert timedelta(minutes=14) < row.expires_at - utcnow() <= timedelta(minutes=15)

    def test_newer_request_invalidates_older_links(self, session, org, team):
        first = request(session, org, "maya@example.com")
        second = request(session, org, "maya@example.com")
        with pytest.raises(InvalidToken) as exc:
            signin.verify_link(session, org, first.token)
        assert exc.value.reason == "used"
        assert signin.verify_link(session, org, second.token) == "maya@example.com"

    def test_rate_limited_per_email(self, session, org, team):
        policy = signin.SignInPolicy(max_per_email=3)
        for _ in range(3):
            request(session, org, "maya@example.com", policy=policy)
        with pytest.raises(RateLimited) as exc:
            request(session, org, "MAYA@example.com", policy=policy)
        assert 0 < exc.value.retry_after <= 15 * 60
        assert "Too many sign-in links" in exc.value.message
        # another email is not affected
        request(session, org, "olivia@example.com", policy=policy)

    def test_rate_limit_also_counts_unknown_emails(self, session, org):
        policy = signin.SignInPolicy(max_per_email=2)
        request(session, org, "ghost@example.com", policy=policy)
        request(session, org, "ghost@example.com", policy=policy)
        with pytest.raises(RateLimited):
            request(session, org, "ghost@example.com", policy=policy)

    def test_invalid_email_is_a_field_error(self, session, org):
        with pytest.raises(PortalError) as exc:
            request(session, org, "not-an-email")
        assert exc.value.field == "email"


class TestVerifyLink:
    def test_single_use(self, session, org, team):
        result = request(session, org, "maya@example.com")
        assert signin.verify_link(session, org, result.token) == "maya@example.com"
        session.commit()
        with pytest.raises(InvalidToken) as exc:
            signin.verify_link(session, org, result.token)
        assert exc.value.reason == "used"

    def test_expired_link_is_refused(self, session, org, team):
        result = request(session, org, "maya@example.com")
        row = session.scalar(select(SignInToken))
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
        with pytest.raises(InvalidToken) as exc:
            signin.verify_link(session, org, result.token)
        assert exc.value.reason == "expired"

    def test_unknown_token(self, session, org):
        with pytest.raises(InvalidToken) as exc:
            signin.verify_link(session, org, "made-up")
        assert exc.value.reason == "unknown"

    def test_link_of_another_organization_is_refused(self, session, org, team):
        other = make_org("other", "Other")
        result = request(session, org, "maya@example.com")
        with pytest.raises(InvalidToken):
            signin.verify_link(session, other, result.token)

    def test_peek_does_not_consume(self, session, org, team):
        result = request(session, org, "maya@example.com")
        signin.peek_link(session, org, result.token)
        signin.peek_link(session, org, result.token)
        assert signin.verify_link(session, org, result.token) == "maya@example.com"


class TestVerifyCode:
    def test_right_code_proves_email_once(self, session, org, team):
        result = request(session, org, "maya@example.com")
        assert signin.verify_code(session, org, "maya@example.com", result.code.lower()) == "maya@example.com"
        session.commit()
        with pytest.raises(InvalidToken):
            signin.verify_code(session, org, "maya@example.com", result.code)

    def test_wrong_codes_kill_the_link_after_five_tries(self, session, org, team):
        result = request(session, org, "maya@example.com")
        for _ in range(signin.MAX_CODE_ATTEMPTS - 1):
            with pytest.raises(InvalidToken) as exc:
                signin.verify_code(session, org, "maya@example.com", "WRONG000")
            assert exc.value.reason == "wrong"
        with pytest.raises(InvalidToken) as exc:
            signin.verify_code(session, org, "maya@example.com", "WRONG000")
        assert exc.value.reason == "used"
        with pytest.raises(InvalidToken):
            signin.verify_code(session, org, "maya@example.com", result.code)

    def test_a_try_after_the_wrong_codes_ended_the_link_says_so_not_expired(self, session, org, team):
        request(session, org, "maya@example.com")
        for _ in range(signin.MAX_CODE_ATTEMPTS):
            with pytest.raises(InvalidToken):
                signin.verify_code(session, org, "maya@example.com", "WRONG000")
        session.commit()
        with pytest.raises(InvalidToken) as exc:
            signin.verify_code(session, org, "maya@example.com", "WRONG000")
        assert (exc.value.reason, exc.value.message) == (
            "used", "Too many wrong codes. Request a new one.")
        # A new link starts afresh: its code works.
        fresh = request(session, org, "maya@example.com")
        assert signin.verify_code(session, org, "maya@example.com", fresh.code) == "maya@example.com"

    def test_expired_code_is_refused(self, session, org, team):
        result = request(session, org, "maya@example.com")
        session.scalar(select(SignInToken)).expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
        with pytest.raises(InvalidToken) as exc:
            signin.verify_code(session, org, "maya@example.com", result.code)
        assert exc.value.reason == "expired"


class TestChooseMember:
    def test_single_membership_is_chosen(self, session, org, team):
        assert signin.choose_member(session, org, "maya@example.com").customer_id == team.id

    def test_several_teams_need_a_choice_after_proof(self, session, org, team):
        other = make_team(org, name="Other team", owner="boss@example.com",
                          members={"maya@example.com": Role.BILLING_MANAGER})
        with pytest.raises(PortalError) as exc:
            signin.choose_member(session, org, "maya@example.com")
        assert exc.value.field == "member_id"
        options = signin.live_members_for_email(session, org, "maya@example.com")
        assert {m.customer_id for m in options} == {team.id, other.id}
        chosen = next(m for m in options if m.customer_id == other.id)
        assert signin.choose_member(session, org, "maya@example.com", chosen.id).role is Role.BILLING_MANAGER

    def test_choice_must_be_one_of_the_proven_emails_teams(self, session, org, team):
        stranger = make_team(org, owner="eve@example.com")
        eve = signin.live_members_for_email(session, org, "eve@example.com")[0]
        assert eve.customer_id == stranger.id
        with pytest.raises(PortalError):
            signin.choose_member(session, org, "maya@example.com", eve.id)

    def test_removed_member_cannot_sign_in(self, session, org, team):
        maya = signin.live_members_for_email(session, org, "maya@example.com")[0]
        maya.deleted_at = utcnow()
        session.commit()
        with pytest.raises(PortalError) as exc:
            signin.choose_member(session, org, "maya@example.com")
        assert exc.value.status == 403
