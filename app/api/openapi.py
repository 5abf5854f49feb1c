"""/openapi.json: OpenAPI 3.1, generated from the operations and the very pydantic models that
validate their requests and build their responses (routing.OPERATIONS)."""
from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, jsonify
from pydantic.json_schema import models_json_schema

from .routing import OPERATIONS, Operation
from .schemas import CustomerSelectionRequired, Error, HTTPValidationError

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "The request breaks a rule (e.g. no seat left).",
    401: "No token, or an unknown, revoked or expired one.",
    403: "The token lacks the scope, or the member may not do this.",
    404: "Not found (other organizations' and teams' objects are never found).",
    409: "Conflict.",
    413: "The body is larger than the server accepts.",
    415: "The body is not sent as `Content-Type: application/json`.",
    422: "The request is malformed or breaks a rule; `detail` lists why.",
    429: "Too many requests: wait `Retry-After` seconds.",
}
SECURITY_SCHEMES = {
    "organization_token": {
        "type": "http", "scheme": "bearer",
        "description": "Organization access token, `polar_oat_…` (mint one with "
                       "`flask --app wsgi token create <org-slug>`). Each operation lists the "
                       "scopes it accepts in `x-scopes`.",
    },
    "member_session": {
        "type": "http", "scheme": "bearer",
        "description": "Member session token, `polar_mst_…`, from `POST /v1/customer-sessions/`, "
                       "the sign-in code, or a seat claim.",
    },
}


def _statuses(op: Operation) -> dict[int, type]:
    """Every error status the operation can answer, with the model of its body."""
    statuses: dict[int, type] = {}
    if op.path or op.query or op.body:
        statuses[422] = HTTPValidationError
    if op.auth is not None:
        statuses[401] = Error
        if getattr(op.auth, "scopes", None):
            statuses[403] = Error
    if op.path is not None:
        statuses[404] = Error
    if op.body is not None:
        statuses[413] = Error
        statuses[415] = Error
    if op.limited:
        statuses[429] = Error
    for status in op.errors:
        statuses.setdefault(status, Error)
    statuses.update(op.other_statuses)
    return dict(sorted(statuses.items()))


def _param_schema(schema: dict) -> dict:
    """Query strings cannot carry null: drop that branch of optional parameters."""
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        rest = {k: v for k, v in schema.items() if k != "anyOf" and k != "default"}
        if len(branches) == 1:
            return {**rest, **branches[0]}
        return {**rest, "anyOf": branches}
    return schema


def _parameters(op: Operation, defs: dict) -> list[dict]:
    params = []
    for where, model in (("path", op.path), ("query", op.query)):
        if model is None:
            continue
        schema = model.model_json_schema(ref_template=REF)
        defs.update(schema.pop("$defs", {}))
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            description = prop.pop("description", None)
            param = {"name": name, "in": where, "required": where == "path" or name in required,
                     "schema": _param_schema(prop)}
            if description:
                param["description"] = description
            if where == "path" and param["schema"].get("type") == "string":
                param["schema"].setdefault("minLength", 1)
            params.append(param)
    return params


def _content(ref: dict) -> dict:
    return {"application/json": {"schema": ref}}


@lru_cache(maxsize=1)
def build_spec() -> dict:
    pairs = []
    for op in OPERATIONS:
        if op.body is not None:
            pairs.append((op.body, "validation"))
        if op.response is not None:
            pairs.append((op.response, "serialization"))
    for model in (Error, HTTPValidationError, CustomerSelectionRequired):
        pairs.append((model, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(pairs)), ref_template=REF)
    defs = dict(top.get("$defs", {}))

    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        responses: dict[str, dict] = {}
        if op.response is not None:
            responses[str(op.status)] = {
                "description": "Success.",
                "content": _content(refs[(op.response, "serialization")]),
            }
        else:
            responses[str(op.status)] = {"description": "Success, no body."}
        for status, model in _statuses(op).items():
            text = "Success." if status < 300 else ERROR_TEXT.get(status, "Error.")
            responses[str(status)] = {"description": text,
                                      "content": _content(refs[(model, "serialization")])}
        item = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "description": op.description,
            "tags": [op.tag],
            "parameters": _parameters(op, defs),
            "responses": responses,
        }
        if op.body is not None:
            item["requestBody"] = {"required": True,
                                   "content": _content(refs[(op.body, "validation")])}
        if op.auth is not None:
            item["security"] = [{op.auth.scheme: []}]
            scopes = getattr(op.auth, "scopes", ())
            if scopes:
                item["x-scopes"] = list(scopes)
        else:
            item["security"] = []
        if op.deprecated:
            item["deprecated"] = True
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = item

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Team Portal API",
            "version": "1.0.0",
            "description": "Polar-compatible API for team members, seats and portal sessions. "
                           "See docs/api.md.",
        },
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": SECURITY_SCHEMES},
    }


@bp.get("/openapi.json")
def openapi_json():
    """The API description, OpenAPI 3.1."""
    return jsonify(build_spec())
