"""Embedding rules: the allowlist of origins and the one-time hand-off token."""
from datetime import timedelta

import pytest

from app.errors import InvalidToken, RuleViolation
from app.models import PortalSession, utcnow
from app.security import hash_token
from app.services import organizations, sessions
from tests.factories import make_org, make_team, member


class TestSetEmbedOrigins:
    def test_origins_are_normalised_and_deduplicated(self, session, app):
        org = make_org()
        allowed = organizations.set_embed_origins(
            session, org, ["https://App.Example.com/", "https://app.example.com:443", "http://localhost:8080"]
        )
        assert allowed == ["https://app.example.com", "http://localhost:8080"]
        assert org.embed_origins == allowed

    @pytest.mark.parametrize("bad", ["app.example.com", "ftp://x.example", "https://x.example/path",
                                     "https://x.example?q=1", "https://user:pw@x.example", "*",
                                     "https://x.example:99999"])
    def test_anything_but_a_bare_origin_is_refused(self, session, app, bad):
        org = make_org()
        with pytest.raises(RuleViolation) as exc:
            organizations.set_embed_origins(session, org, [bad])
        assert "origin" in exc.value.message
        assert org.embed_origins == []

    @pytest.mark.parametrize("bad", ["https://*.example.com", "https://a.example *",
                                     "https://a.example;sandbox", "https://a.example,https://b.example",
                                     "https://a'b.example"])
    def test_a_host_that_would_widen_or_break_the_csp_is_refused(self, session, app, bad):
        """The origins go into `frame-ancestors` as they are: a wildcard, a space (a second
        source, `*` for anyone) or a `;` (another directive) must never get there."""
        org = make_org()
        with pytest.raises(RuleViolation) as exc:
            organizations.set_embed_origins(session, org, [bad])
        assert "is not an origin" in exc.value.message
        assert org.embed_origins == []

    def test_an_ipv6_origin_keeps_its_brackets(self, session, app):
        org = make_org()
        assert organizations.set_embed_origins(session, org, ["http://[::1]:8080"]) == ["http://[::1]:8080"]

    def test_at_most_twenty(self, session, app):
        org = make_org()
        with pytest.raises(RuleViolation):
            organizations.set_embed_origins(session, org, [f"https://a{i}.example" for i in range(21)])

    def test_empty_list_forbids_framing(self, session, app):
        org = make_org()
        organizations.set_embed_origins(session, org, ["https://a.example"])
        assert organizations.set_embed_origins(session, org, []) == []


class TestExchangeHandoff:
    @pytest.fixture
    def minted(self, session, app):
        org = make_org("acme")
        team = make_team(org, owner="olivia@example.com")
        row, api_token, handoff = sessions.start_api_session(session, member(team, "olivia@example.com"),
                                                             return_url="https://app.example.com/x")
        session.commit()
        return org, row, api_token, handoff

    def test_only_hashes_are_stored(self, session, minted):
        _org, row, api_token, handoff = minted
        assert api_token.startswith("polar_mst_")
        assert row.token_hash == hash_token(api_token) and row.handoff_token_hash == hash_token(handoff)

    def test_gives_a_new_browser_session_for_the_same_member(self, session, minted):
        org, row, _api, handoff = minted
        browser, token = sessions.exchange_handoff(session, org, handoff)
        assert browser.kind == "embed" and browser.member_id == row.member_id
        assert browser.return_url == "https://app.example.com/x"
        assert browser.expires_at <= row.expires_at
        assert sessions.load_session(session, token).id == browser.id

    def test_works_once(self, session, minted):
        org, _row, _api, handoff = minted
        sessions.exchange_handoff(session, org, handoff)
        with pytest.raises(InvalidToken) as exc:
            sessions.exchange_handoff(session, org, handoff)
        assert exc.value.reason == "used"

    def test_expires_after_a_few_minutes(self, session, minted):
        org, row, _api, handoff = minted
        row.created_at = utcnow() - timedelta(minutes=sessions.HANDOFF_MINUTES, seconds=1)
        session.commit()
        with pytest.raises(InvalidToken) as exc:
            sessions.exchange_handoff(session, org, handoff)
        assert exc.value.reason == "expired"

    def test_dies_with_its_api_session(self, session, minted):
        org, row, _api, handoff = minted
        sessions.end_session(session, row)
        with pytest.raises(InvalidToken):
            sessions.exchange_handoff(session, org, handoff)

    def test_is_bound_to_its_organization(self, session, minted):
        _org, _row, _api, handoff = minted
        other = make_org("other")
        with pytest.raises(InvalidToken) as exc:
            sessions.exchange_handoff(session, other, handoff)
        assert exc.value.reason == "unknown"
        assert session.query(PortalSession).filter_by(kind="embed").count() == 0


class TestAllowSigninInFrame:
    def test_off_by_default_and_switchable(self, session, app):
        org = make_org()
        assert not (org.features or {}).get("signin_in_frame")
        assert organizations.allow_signin_in_frame(session, org, True) is True
        assert org.features["signin_in_frame"] is True and org.features["seats"] is True
        organizations.allow_signin_in_frame(session, org, False)
        assert org.features["signin_in_frame"] is False
