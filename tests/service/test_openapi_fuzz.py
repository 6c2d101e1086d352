"""Schemathesis against the service's own OpenAPI schema: no request, valid or not, is a server error.

Every operation but login and logout gets schemathesis' coverage cases (boundaries, missing and
wrong-typed values, unexpected methods) and 15 generated requests, as a user who may call it, on
each database. No answer may be a 5xx, and each must have a documented status, content type and
shape. Login and logout are left out: failed logins would lock the shared users out, and a
logout would revoke a shared token. The run is deterministic, so CI sends the same requests.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from clinic import Headers
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rltnet.service.app import create_app

# the schema of an app that is never started: building it touches no database
schema = schemathesis.openapi.from_dict(create_app().openapi()).exclude(path_regex="^/api/v1/auth/log")
schema.config.generation.update(max_examples=15, deterministic=True, database="none")

# Each operation is tried as a user who may call it, so that requests get past the role check
# to the code behind it; the coverage phase also sends malformed tokens (401s).
AS_TAG = {"plan": "maker", "logistics": "maker", "admin": "admin"}
AS_OPERATION = {
    "POST /api/v1/patients/{patient_id}/mdt-decisions": "doc-leeds",
    "POST /api/v1/patients/{patient_id}/administrations": "doc-leeds",
    "POST /api/v1/patients/{patient_id}/discontinuation": "doc-leeds",
    "POST /api/v1/orders/{order_id}/confirmation": "maker",
    "POST /api/v1/orders/{order_id}/progress": "maker",
    "POST /api/v1/orders/{order_id}/proposal": "maker",
    "GET /api/v1/aggregates": "analyst",
}
Case = schemathesis.Case[Any]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _request(case: Case, headers: Headers) -> dict[str, Any]:
    """The case as TestClient (httpx) arguments; schemathesis prepares them for `requests`."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    if not kwargs.get("cookies"):
        kwargs.pop("cookies", None)  # httpx deprecates per-request cookies; none are generated here
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    # header values as `requests` sends them (Latin-1); httpx would refuse what is not ASCII
    kwargs["headers"] = {name: value.encode("latin-1") for name, value in kwargs["headers"].items()}
    return kwargs


def _caller(case: Case) -> str:
    operation = case.operation
    tag = operation.tags[0] if operation.tags else ""
    return AS_OPERATION.get(operation.label) or AS_TAG.get(tag, "coord-leeds")


@schema.parametrize()
def test_no_request_gives_a_server_error(case: Case, client: TestClient, auth: dict[str, Headers]) -> None:
    user = _caller(case)
    response = client.request(**_request(case, auth[user]))
    case.validate_response(response, checks=CHECKS)
