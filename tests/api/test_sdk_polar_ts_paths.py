"""Every path the TypeScript SDKs call for the operations the portal serves, read from the SDKs'
own sources, is routed by the portal for that method: none ends in a redirect, a 404 or a 405."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.sdk

# @polar-sh/sdk@0.48.1: one file per operation under src/funcs/.
FUNCS_0_48 = re.compile(r"^(members|customerSeats|customerSessionsCreate|customerPortalMembers|"
                        r"customerPortalSeats|customerPortalCustomerSession|customerPortalCustomersGet$|"
                        r"customers(Get|GetExternal|List|Create|Update)$)")
# @polar-sh/sdk@1.0.1: one file per service; (file, the operations of it the portal serves or None for all).
SERVICES_1 = {
    "customers/members.mjs": None,
    "customer_seats.mjs": None,
    "customer_sessions.mjs": None,
    "customer_portal/members.mjs": None,
    "customer_portal/seats.mjs": None,
    "customer_portal/customer_session.mjs": None,
    "customer_portal/customers.mjs": {"getCustomers"},
    "customers/index.mjs": {"listCustomers", "createCustomers", "getCustomers",
                            "getExternalCustomers", "updateCustomers"},
}


def _calls_0_48(folder) -> set[tuple[str, str, str]]:
    calls = set()
    for source in sorted((folder / "node_modules/@polar-sh/sdk/src/funcs").glob("*.ts")):
        if not FUNCS_0_48.match(source.stem):
            continue
        text = source.read_text()
        path = re.search(r'pathToFunc\("([^"]+)"', text)[1]
        method = re.search(r'method: "([A-Z]+)"', text)[1]
        calls.add((source.stem, method, path))
    return calls


def _calls_1(folder) -> set[tuple[str, str, str]]:
    calls = set()
    services = folder / "node_modules/@polar-sh/sdk/dist/2026-10/services"
    for name, wanted in SERVICES_1.items():
        text = (services / name).read_text()
        for fn, body in re.findall(r"^const (\w+) = \(client\) => \{\n(.*?)^\};", text, re.S | re.M):
            found = re.search(r'buildRequest\("([A-Z]+)", "([^"]+)"', body)
            if found and (wanted is None or fn in wanted):
                calls.add((f"{name}:{fn}", found[1], found[2]))
    return calls


def _unrouted(app, calls) -> list[str]:
    adapter = app.url_map.bind("127.0.0.1")
    missing = []
    for name, method, path in sorted(calls):
        concrete = re.sub(r"\{(\w+)\}", "00000000-0000-4000-8000-000000000000", path)
        try:
            endpoint, _args = adapter.match(concrete, method=method)
        except Exception as exc:  # noqa: BLE001 - NotFound, MethodNotAllowed, RequestRedirect
            missing.append(f"{method} {path} ({name}): {type(exc).__name__}")
            continue
        if not endpoint.startswith("api."):
            missing.append(f"{method} {path} ({name}): served by {endpoint}, not the API")
    return missing


def test_every_path_of_sdk_0_48_is_served(app, ts_sdk_0_48):
    calls = _calls_0_48(ts_sdk_0_48.sdk_folder)
    assert len(calls) == 32, sorted(calls)  # 8 members, 6 seats, 1 session, 4+5 portal, 3 identity, 5 customers
    assert ("membersListMembers", "GET", "/v1/members/") in calls
    assert _unrouted(app, calls) == []


def test_every_path_of_sdk_1_is_served(app, ts_sdk_1):
    calls = _calls_1(ts_sdk_1.sdk_folder)
    assert len(calls) == 34, sorted(calls)  # 10 members, 6 seats, 1 session, 4+5 portal, 3 identity, 5 customers
    assert ("customer_sessions.mjs:createCustomerSessions", "POST", "/v1/customer-sessions/") in calls
    assert _unrouted(app, calls) == []
