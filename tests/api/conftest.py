"""Fixtures for the JSON API: an organization, its access token, a team, and a client that
sends `Authorization: Bearer …` on each request (each request with its own context)."""
from __future__ import annotations

import hashlib

import pytest

from app.extensions import db
from app.models import Role
from app.services import organizations, sessions
from tests.api.node_env import NodeRunner, NodeSdkUnavailable, ensure_sdk
from tests.api.sdk_env import SdkRunner, SdkUnavailable, ensure_venv
from tests.conftest import unavailable
from tests.factories import make_org, make_team, member


class Api:
    """A JSON client for /v1 with a bearer token (or none)."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token)

    def request(self, method: str, path: str, *, json=None, data=None, headers=None, **kw):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.client.open(path, method=method, json=json, data=data, headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def mint_token(org, scopes=None) -> str:
    _row, raw = organizations.create_token(db.session, org, scopes)
    db.session.commit()
    return raw


def gravatar(email: str) -> str:
    """The `avatar_url` a customer with this email gets."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=404"


def member_token(person) -> str:
    """A member session as `POST /v1/customer-sessions/` mints it."""
    _row, token, _handoff = sessions.start_api_session(db.session, person)
    db.session.commit()
    return token


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def other_org(app):
    return make_org("globex", "Globex")


@pytest.fixture
def token(org):
    return mint_token(org)


@pytest.fixture
def api(client, token):
    return Api(client, token)


@pytest.fixture
def anonymous(client):
    return Api(client, None)


@pytest.fixture
def team(org):
    return make_team(org, name="Core Team", owner="owner@example.com", external_id="cus_core",
                     members={"billing@example.com": Role.BILLING_MANAGER,
                              "dev@example.com": Role.MEMBER},
                     seats=3)


@pytest.fixture
def owner(team):
    return member(team, "owner@example.com")


@pytest.fixture
def billing(team):
    return member(team, "billing@example.com")


@pytest.fixture
def dev(team):
    return member(team, "dev@example.com")


def as_member(client, person) -> Api:
    return Api(client, member_token(person))


def _sdk(requirement: str, tmp_path_factory) -> SdkRunner:
    try:
        python = ensure_venv(requirement)
    except SdkUnavailable as exc:
        unavailable(str(exc))
    return SdkRunner(python, tmp_path_factory.mktemp("sdk"))


@pytest.fixture(scope="session")
def polar_sdk_1(tmp_path_factory) -> SdkRunner:
    """polar-sdk==1.0.2 in its own virtualenv."""
    return _sdk("polar-sdk==1.0.2", tmp_path_factory)


@pytest.fixture(scope="session")
def polar_sdk_0(tmp_path_factory) -> SdkRunner:
    """polar-sdk==0.32.0 (the seed documents' SDK) in its own virtualenv."""
    return _sdk("polar-sdk==0.32.0", tmp_path_factory)


@pytest.fixture(scope="session")
def cloudflare_sdk(tmp_path_factory) -> SdkRunner:
    """cloudflare==5.9.0 (the /client/v4 user-group API) in its own virtualenv."""
    return _sdk("cloudflare==5.9.0", tmp_path_factory)


def _node_sdk(version: str, tmp_path_factory) -> NodeRunner:
    try:
        folder = ensure_sdk(version)
    except NodeSdkUnavailable as exc:
        unavailable(str(exc))
    return NodeRunner(folder, tmp_path_factory.mktemp("ts-sdk"))


@pytest.fixture(scope="session")
def ts_sdk_0_48(tmp_path_factory) -> NodeRunner:
    """@polar-sh/sdk@0.48.1 (the flat `members` API of the seed documents), installed by npm."""
    return _node_sdk("0.48.1", tmp_path_factory)


@pytest.fixture(scope="session")
def ts_sdk_1(tmp_path_factory) -> NodeRunner:
    """@polar-sh/sdk@1.0.1 (`createPolar` from `@polar-sh/sdk/2026-10`), installed by npm."""
    return _node_sdk("1.0.1", tmp_path_factory)
