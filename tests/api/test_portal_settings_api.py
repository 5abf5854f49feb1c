"""Our own API for the embedding allowlist: GET/PATCH /v1/portal-settings."""
from tests.api.conftest import mint_token


def test_read_and_replace_the_allowed_origins(api, org, client):
    assert api.get("/v1/portal-settings").get_json()["embed_origins"] == []
    response = api.patch("/v1/portal-settings",
                         json={"embed_origins": ["https://App.Example.com/", "http://localhost:3000"]})
    assert response.status_code == 200
    assert response.get_json()["embed_origins"] == ["https://app.example.com", "http://localhost:3000"]
    page = client.get(f"/{org.slug}/login")
    assert "frame-ancestors https://app.example.com http://localhost:3000" in page.headers["Content-Security-Policy"]


def test_a_bad_origin_is_a_422_naming_it(api):
    response = api.patch("/v1/portal-settings", json={"embed_origins": ["https://ok.example", "*.evil"]})
    assert response.status_code == 422
    issue = response.get_json()["detail"][0]
    assert issue["loc"] == ["body", "origins"] and "'*.evil' is not an origin" in issue["msg"]
    assert api.get("/v1/portal-settings").get_json()["embed_origins"] == []


def test_wrong_shapes_are_422(api):
    assert api.patch("/v1/portal-settings", json={"embed_origins": "https://a.example"}).status_code == 422
    assert api.patch("/v1/portal-settings", json={"signin_in_frame": [1]}).status_code == 422
    assert api.patch("/v1/portal-settings", json={"signin_in_frame": 0.0}).status_code == 422
    assert api.patch("/v1/portal-settings", json={}).status_code == 200  # nothing to change


def test_scopes_are_enforced(api, org):
    reader = api.as_(mint_token(org, ["organizations:read"]))
    assert reader.get("/v1/portal-settings").status_code == 200
    refused = reader.patch("/v1/portal-settings", json={"embed_origins": []})
    assert refused.status_code == 403 and refused.get_json()["error"] == "NotPermitted"
    assert "organizations:write" in refused.get_json()["detail"]
    assert api.as_(None).get("/v1/portal-settings").status_code == 401


def test_each_organization_sees_only_its_own(api, other_org):
    api.patch("/v1/portal-settings", json={"embed_origins": ["https://mine.example"]})
    theirs = api.as_(mint_token(other_org))
    assert theirs.get("/v1/portal-settings").get_json()["embed_origins"] == []


def test_sign_in_inside_frames_is_off_until_switched_on(api):
    assert api.get("/v1/portal-settings").get_json()["signin_in_frame"] is False
    api.patch("/v1/portal-settings", json={"embed_origins": ["https://a.example"]})
    response = api.patch("/v1/portal-settings", json={"signin_in_frame": True})
    assert response.status_code == 200
    assert response.get_json()["signin_in_frame"] is True
    assert response.get_json()["embed_origins"] == ["https://a.example"], "left-out fields stay"
