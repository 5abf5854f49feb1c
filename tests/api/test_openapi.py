"""/openapi.json: a valid OpenAPI 3.1 document that describes every /v1 route, and a schemathesis
run against the live server that finds no 5xx and no response breaking the document."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from app.api import schemas
from tests.api.conftest import member_token, mint_token
from tests.support.smtp import first_link


def test_openapi_is_valid_3_1(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_openapi_describes_every_v1_route(app, client):
    spec = client.get("/openapi.json").get_json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        if not path.startswith("/v1/"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method))
    aliases = {("/v1/customers/", "GET"), ("/v1/customers/", "POST"), ("/v1/members/", "GET"),
               ("/v1/members/", "POST"), ("/v1/customer-sessions", "POST")}
    assert served - aliases == documented


def test_request_bodies_are_the_validating_models(client):
    spec = client.get("/openapi.json").get_json()
    create = spec["paths"]["/v1/customers/{id}/members"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(component["properties"]) == set(schemas.MemberCreateFromCustomer.model_fields)
    assert component["properties"]["role"]["enum"] == ["member", "billing_manager"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Member")
    assert set(create["responses"]) >= {"201", "401", "403", "404", "422"}


# --- fuzzing ----------------------------------------------------------------------------------------

MAX_EXAMPLES = 15

@pytest.fixture
def fuzz_tokens(org, team, owner):
    return {"org": mint_token(org), "member": member_token(owner)}


@pytest.fixture
def api_schema(live_server, fuzz_tokens):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    # Unknown query parameters are ignored, as Polar does (its SDKs send some we do not use), so
    # they are not "invalid input"; the bearer token is set by the test, not generated.
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    # A body over the size limit is rejected with 413 (documented on every operation with a body).
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    # Input that fits the schema may still break a business rule and get 422 (adding an owner,
    # a duplicate email, a seat count below the seats in use…), so that check does not apply.
    schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])
    return schema


def _headers(case, tokens) -> dict:
    portal = case.operation.path.startswith("/v1/customer-portal/")
    return {"Authorization": f"Bearer {tokens['member' if portal else 'org']}"}


def _real_ids(api, team, dev, mailbox) -> dict:
    """Path parameters that name existing objects, so the fuzzer reaches past the lookups."""
    api.post(f"/v1/customers/{team.id}/members", json={"email": "ext@example.com", "external_id": "usr_ext"})
    sub = api.get("/v1/subscriptions", query_string={"customer_id": str(team.id)}).get_json()["items"][0]
    seat = api.post("/v1/customer-seats", json={"subscription_id": sub["id"], "email": "seat@example.com"})
    link = first_link(mailbox.wait_for("seat@example.com"), "/claim")
    return {"id": str(team.id), "member_id": str(dev.id), "external_id": "cus_core",
            "member_external_id": "usr_ext", "seat_id": seat.get_json()["id"],
            "invitation_token": link.split("token=", 1)[1]}


def test_fuzz_finds_no_server_error_and_no_schema_violation(api_schema, fuzz_tokens, api, team, dev,
                                                            mailbox):
    """Every operation, with generated valid and invalid input, and with real ids in the path.

    All of schemathesis's default checks run (no 5xx; status codes, content types, headers and
    bodies as documented; invalid input rejected) except `positive_data_acceptance` (see above)."""
    known = _real_ids(api, team, dev, mailbox)
    failures, calls = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        runs = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if names:
            runs.append((GenerationMode.POSITIVE, {n: known[n] for n in names}))
        for mode, path_parameters in runs:
            strategy = operation.as_strategy(mode, path_parameters=path_parameters)

            @given(case=strategy)
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            def run(case):
                calls.append(1)
                case.call_and_validate(headers=_headers(case, fuzz_tokens))

            try:
                run()
            except Unsatisfiable:
                pass  # e.g. no invalid value exists for a free-text path parameter
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
    assert len(calls) > 40 * MAX_EXAMPLES


def test_fuzz_checks_catch_a_response_that_breaks_the_schema(api_schema, fuzz_tokens, team,
                                                             monkeypatch):
    """The run above can fail: a response missing a required key is reported."""
    operation = api_schema["/v1/customers/{id}"]["GET"]
    case = operation.Case(path_parameters={"id": str(team.id)})
    case.call_and_validate(headers=_headers(case, fuzz_tokens))  # fine as served

    broken = schemas.Customer.model_dump

    def without_email_verified(self, *args, **kwargs):
        data = broken(self, *args, **kwargs)
        data.pop("email_verified")
        return data

    monkeypatch.setattr(schemas.Customer, "model_dump", without_email_verified)
    with pytest.raises(FailureGroup) as failed:
        case.call_and_validate(headers=_headers(case, fuzz_tokens))
    assert '"email_verified" is a required property' in str(failed.value.exceptions[0])
