"""Nothing under /v1 answers HTML or a 500 for bad input: every error is Polar's JSON."""
from __future__ import annotations

import pytest


def _is_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert b"<html" not in response.data.lower()
    return response.get_json()


class TestRequestShape:
    @pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe", b'{"email": }'])
    def test_malformed_json_is_422(self, api, team, raw):
        response = api.post(f"/v1/customers/{team.id}/members", data=raw,
                            headers={"Content-Type": "application/json"})
        body = _is_json_error(response, 422)
        assert body["detail"][0]["type"] == "json_invalid"
        assert body["detail"][0]["loc"][0] == "body"

    @pytest.mark.parametrize("payload", [[], "text", 42, None, [{"email": "a@example.com"}]])
    def test_json_that_is_not_an_object_is_422(self, api, team, payload):
        response = api.post(f"/v1/customers/{team.id}/members", json=payload)
        assert _is_json_error(response, 422)["detail"][0]["loc"][0] == "body"

    def test_a_lone_surrogate_is_422_not_500(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members",
                            data=b'{"email": "x@example.com", "name": "a\\ud800b"}',
                            headers={"Content-Type": "application/json"})
        detail = _is_json_error(response, 422)["detail"][0]
        assert detail["loc"] == ["body", "name"] and "surrogate" in detail["msg"]

    def test_empty_body_is_422_missing(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members", data=b"")
        assert _is_json_error(response, 422)["detail"] == [
            {"loc": ["body"], "msg": "Field required", "type": "missing", "input": None}]

    def test_form_encoded_body_is_415_not_500(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members", data={"email": "a@example.com"})
        assert _is_json_error(response, 415)["error"] == "UnsupportedMediaType"

    @pytest.mark.parametrize("payload", [
        {"email": "a@example.com", "name": 5},
        {"email": ["a@example.com"]},
        {"email": "a@example.com", "role": None},
        {"email": "a@example.com", "external_id": "x" * 300},
    ])
    def test_wrong_types_are_422(self, api, team, payload):
        _is_json_error(api.post(f"/v1/customers/{team.id}/members", json=payload), 422)

    @pytest.mark.parametrize("where", ["body", "query", "path"])
    def test_nul_characters_are_422(self, api, team, where):
        if where == "body":
            response = api.post(f"/v1/customers/{team.id}/members", json={"email": "a\x00@example.com",
                                                                           "name": "a\x00b"})
        elif where == "query":
            response = api.get("/v1/members", query_string={"external_customer_id": "a\x00b"})
        else:
            response = api.get("/v1/customers/external/a%00b/members")
        _is_json_error(response, 422)

    def test_huge_body_is_413_json(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members",
                            data=b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                            headers={"Content-Type": "application/json"})
        assert _is_json_error(response, 413)["error"] == "RequestEntityTooLarge"

    @pytest.mark.parametrize("path", ["/v1/customers/abc/members", "/v1/members/1",
                                      "/v1/customer-seats/%20/resend", "/v1/subscriptions/{}"])
    def test_bad_uuids_are_422(self, api, path):
        method = "POST" if path.endswith("resend") else "GET"
        body = _is_json_error(api.request(method, path), 422)
        assert body["detail"][0]["loc"][0] == "path"

    def test_huge_page_number_is_422_not_500(self, api, team):
        response = api.get(f"/v1/customers/{team.id}/members", query_string={"page": 10 ** 30})
        _is_json_error(response, 422)


class TestRouting:
    @pytest.mark.parametrize("path", ["/v1", "/v1/", "/v1/nothing", "/v1/customers/x/members/y/z",
                                      "/v1/customer-seats/", "/v1/customers/x/members/"])
    def test_unknown_paths_are_json_404(self, api, path):
        assert _is_json_error(api.get(path), 404) == {"error": "ResourceNotFound", "detail": "Not found."}

    def test_unknown_method_is_json_405_with_allow(self, api, team):
        response = api.request("PUT", f"/v1/customers/{team.id}/members")
        _is_json_error(response, 405)
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}

    def test_paths_answer_without_redirects(self, api, team):
        for path in (f"/v1/customers/{team.id}/members", "/v1/members", "/v1/members/",
                     "/v1/customers", "/v1/customers/"):
            assert api.get(path).status_code == 200, path
        assert api.post("/v1/customer-sessions/", json={"customer_id": str(team.id)}).status_code == 201
        assert api.post("/v1/customer-sessions", json={"customer_id": str(team.id)}).status_code == 201
        trailing = api.get(f"/v1/customers/{team.id}/members/")
        assert trailing.status_code == 404 and "Location" not in trailing.headers

    def test_no_cookie_and_no_csrf_needed(self, api, team):
        response = api.post(f"/v1/customers/{team.id}/members", json={"email": "c@example.com"})
        assert response.status_code == 201
        assert "Set-Cookie" not in response.headers

    def test_html_pages_still_answer_html(self, client):
        response = client.get("/nothing-here/at-all")
        assert response.status_code == 404 and response.mimetype == "text/html"
