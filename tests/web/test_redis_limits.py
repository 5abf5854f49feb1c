"""Redis on the production path: the client is installed, an unreachable Redis stops the start with
one line, and the limits live in Redis, so every process and host counts the same requests."""
from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.factories import make_org
from tests.support.redis_server import free_port
from tests.support.web import post_form
from tests.web.test_config import GOOD_SECRET, refused, start


class TestStart:
    def test_the_production_recipe_starts_with_redis(self, tmp_path, redis_url):
        result = start(tmp_path, PORTAL_ENV="production", SECRET_KEY=GOOD_SECRET,
                       SMTP_URL="smtp://127.0.0.1:2525", RATELIMIT_STORAGE_URI=redis_url)
        assert result.returncode == 0, result.stderr
        assert "prerequisite" not in result.stderr

    def test_an_unreachable_redis_is_one_line(self, tmp_path):
        url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"  # nothing listens there
        result = start(tmp_path, RATELIMIT_STORAGE_URI=url)
        refused(result, "Redis at RATELIMIT_STORAGE_URI")
        assert "is not reachable" in result.stderr
        assert "hunter2secret" not in result.stderr  # the password is not printed

    def test_an_unknown_storage_is_one_line(self, tmp_path):
        refused(start(tmp_path, RATELIMIT_STORAGE_URI="nosuch://x"), "RATELIMIT_STORAGE_URI")


class TestSharedCounters:
    @pytest.fixture
    def org(self, app):
        return make_org("acme", "Acme Analytics")

    def test_two_processes_count_one_client_together(self, migrated, smtp_sink, redis_url, org):
        """Each `create_app` is what a gunicorn worker (or another host) builds: with memory://
        each would start from zero; with Redis the second sees the first one's requests."""
        limits = {"RATELIMIT_STORAGE_URI": redis_url, "SIGNIN_CLIENT_LIMIT": "3 per 10 minutes"}
        first = make_app(migrated, smtp_sink, **limits).test_client()
        statuses = [post_form(first, "/acme/login", {"email": f"u{i}@example.com"}).status_code
                    for i in range(3)]
        assert statuses == [303, 303, 303]
        second = make_app(migrated, smtp_sink, **limits).test_client()
        response = post_form(second, "/acme/login", {"email": "u9@example.com"})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
