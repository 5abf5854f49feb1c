"""Outages answer, not crash (issue 13): a database or Redis that cannot be reached gets 503 with
Retry-After and a friendly page (Polar JSON under /v1); /healthz and /readyz for load balancers;
every answer carries a request id, shown on error pages. The PostgreSQL cut under load is in
tests/postgres/test_database_outage.py."""
from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.factories import make_org
from tests.support.redis_server import RedisServer
from tests.support.web import HX


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def no_database(tmp_path, smtp_sink):
    """An app whose database cannot be opened (as when the server is gone)."""
    return make_app(f"sqlite:///{tmp_path}/missing-dir/portal.db", smtp_sink)


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


class TestDatabaseOut:
    def test_a_page_is_503_with_retry_after_and_a_friendly_page(self, no_database):
        response = no_database.test_client().get("/acme/login", headers={"X-Request-ID": "lb-42"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        assert "Back in a moment" in text_of(response) and "Traceback" not in text_of(response)
        assert "lb-42" in text_of(response)  # the request id, for support

    def test_htmx_gets_a_toast(self, no_database):
        response = no_database.test_client().get("/acme/team", headers=HX)
        assert response.status_code == 503 and response.headers["HX-Reswap"] == "none"
        assert "cannot reach its database" in text_of(response)

    def test_the_api_answers_polar_json(self, no_database):
        response = no_database.test_client().get("/v1/customers",
                                                 headers={"Authorization": "Bearer polar_oat_x"})
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert response.get_json()["error"] == "ServiceUnavailable"

    def test_readyz_is_503_and_healthz_is_200(self, no_database):
        client = no_database.test_client()
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


class TestReady:
    def test_readyz_is_200_when_the_database_answers(self, client):
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}

    def test_readyz_checks_redis_when_configured(self, migrated, smtp_sink, org, tmp_path):
        redis = RedisServer(tmp_path)
        redis.start()
        app = make_app(migrated, smtp_sink, RATELIMIT_STORAGE_URI=redis.url)
        client = app.test_client()
        assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok"}
        redis.stop()
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["redis"] == "unavailable"
        # A rate-limited route cannot count while Redis is out: 503, never a 500.
        from tests.support.web import csrf_token

        token = csrf_token(client, "/acme/login")
        response = client.post("/acme/login", data={"email": "a@example.com", "csrf_token": token})
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"


class TestRequestId:
    def test_a_sane_id_from_the_load_balancer_is_echoed(self, client, org):
        assert client.get("/acme/login", headers={"X-Request-ID": "abc-123"}).headers[
            "X-Request-ID"] == "abc-123"

    @pytest.mark.parametrize("offered", [None, "x" * 200, "bad id <script>"])
    def test_otherwise_one_is_made(self, client, org, offered):
        headers = {"X-Request-ID": offered} if offered else {}
        rid = client.get("/acme/login", headers=headers).headers["X-Request-ID"]
        assert len(rid) == 32 and rid != offered

    def test_error_pages_show_it(self, client, org):
        response = client.get("/acme/no-such-page", headers={"X-Request-ID": "support-7"})
        assert response.status_code == 404 and "support-7" in text_of(response)

    def test_each_request_is_one_structured_log_line(self, client, org, caplog):
        caplog.set_level("INFO", logger="portal.request")
        client.get("/acme/login?next=/acme/team", headers={"X-Request-ID": "line-1"})
        lines = [r for r in caplog.records if r.name == "portal.request"]
        assert len(lines) == 1
        assert lines[0].getMessage().startswith("request method=GET path=/acme/login status=200 ")
        assert "next=" not in lines[0].getMessage()
