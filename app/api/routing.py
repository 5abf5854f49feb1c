"""Declaring an API operation once: its path, auth, and the pydantic models that both validate the
request and describe it in /openapi.json.

    @operation("GET", "/customers/<id>/members", "customers:members:list", tag="members",
               auth=org("members:read", "members:write"), path=CustomerPath,
               query=MemberListQuery, response=ListResource[Member])
    def list_members(path, query): ...

The view receives the validated `path`, `query` and `body` models it declared, and returns a
response model (serialized with the declared status), a `(model, status)` pair, or None (204).
Mutating requests are committed here, once, after the view returns.
"""
from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError

from .. import text
from ..extensions import db
from . import auth as api_auth
from .errors import ApiError, from_pydantic, issue, json_response, validation_error


@dataclass
class Operation:
    method: str
    rule: str
    operation_id: str
    summary: str
    description: str
    tag: str
    auth: api_auth.Auth | None
    path: type[BaseModel] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type | None
    status: int
    errors: tuple[int, ...]
    extra_rules: tuple[str, ...] = ()
    deprecated: bool = False
    limited: bool = False
    other_statuses: dict = field(default_factory=dict)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)


OPERATIONS: list[Operation] = []
BLUEPRINTS: dict[str, Blueprint] = {}


def _query_dict(model: type[BaseModel]) -> dict:
    args = request.args
    data = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in args:
            continue
        origin = typing.get_origin(info.annotation)
        is_list = origin is list or any(
            typing.get_origin(a) is list for a in typing.get_args(info.annotation)
        )
        data[name] = args.getlist(key) if is_list else args.get(key)
    return data


def _body_json():
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise validation_error([issue(["body"], "Field required", "missing", None)])
    # Only a JSON content type: a third-party page can post text/plain from its visitors'
    # browsers without a CORS preflight, application/json it cannot.
    if not request.is_json:
        raise ApiError(415, "UnsupportedMediaType",
                       "Send the body as JSON, with the header Content-Type: application/json.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise validation_error(
            [issue(["body", getattr(exc, "pos", 0)], "JSON decode error", "json_invalid", None)]
        ) from None
    except RecursionError:  # thousands of nested arrays fit in 1 MB
        raise _too_deep() from None


def _too_deep() -> ApiError:
    return validation_error([issue(["body"], "The JSON body is nested too deeply.", "json_invalid",
                                   None)])


def _safe_text(data, loc: list) -> None:
    """No text with NUL, control or text-direction characters (app/text.py), anywhere in the
    request: PostgreSQL cannot even compare NUL, and the others spoof lists and emails."""
    if isinstance(data, str):
        if text.unsafe(data, single_line=False):
            raise validation_error([issue(loc, text.MESSAGE, "string_pattern_mismatch",
                                          text.without_unsafe(data, single_line=False))])
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (`"\ud800"` in JSON) cannot be stored
            raise validation_error([issue(loc, "Text must be valid Unicode (no lone surrogates).",
                                          "string_unicode", None)]) from None
    elif isinstance(data, dict):
        for key, value in data.items():
            _safe_text(key, loc)
            _safe_text(value, [*loc, str(key)])
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _safe_text(value, [*loc, i])


def _validate(model: type[BaseModel], data, where: str) -> BaseModel:
    try:
        _safe_text(data, [where])
        return model.model_validate(data)
    except ValidationError as exc:
        try:
            error = from_pydantic(exc.errors(include_url=False), where)
        except RecursionError:  # the error echoes the input, which may be nested as deep
            error = _too_deep()
        raise error from None
    except RecursionError:
        raise _too_deep() from None


def operation(
    bp: Blueprint,
    method: str,
    rule: str,
    operation_id: str,
    *,
    summary: str,
    description: str = "",
    tag: str,
    auth: api_auth.Auth | None,
    path: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    also: tuple[str, ...] = (),
    deprecated: bool = False,
    decorators: tuple = (),
    other_statuses: dict | None = None,
):
    """Register a view under `rule` (and the spellings in `also`, served without redirects)."""

    def register(view):
        op = Operation(
            method=method, rule=bp.url_prefix + rule, operation_id=operation_id, summary=summary,
            description=description or (view.__doc__ or "").strip(), tag=tag, auth=auth,
            path=path, query=query, body=body, response=response, status=status,
            errors=tuple(errors), extra_rules=tuple(bp.url_prefix + a for a in also),
            deprecated=deprecated, limited=bool(decorators), other_statuses=other_statuses or {},
        )
        OPERATIONS.append(op)

        @wraps(view)
        def endpoint(**view_args):
            if auth is not None:
                auth.authenticate()
            kwargs = {}
            if path is not None:
                kwargs["path"] = _validate(path, view_args, "path")
            if query is not None:
                kwargs["query"] = _validate(query, _query_dict(query), "query")
            if body is not None:
                kwargs["body"] = _validate(body, _body_json(), "body")
            result = view(**kwargs)
            if method != "GET":
                db.session.commit()
            return _serialize(result, status)

        for decorator in decorators:
            endpoint = decorator(endpoint)
        name = operation_id.replace(":", "_").replace("-", "_")
        for spelling in (rule, *also):
            # No automatic OPTIONS answer (an empty 200, the one answer that was not JSON):
            # OPTIONS is a JSON 405 with `Allow`, as under /client/v4.
            bp.add_url_rule(spelling, endpoint=name, view_func=endpoint, methods=[method],
                            strict_slashes=True, provide_automatic_options=False)
        return view

    return register


def _serialize(result, default_status: int):
    if result is None:
        return "", default_status if default_status in (202, 204) else 204
    status = default_status
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        return json_response(status, result.model_dump(mode="json"))
    return json_response(status, result)
