"""The console API fuzzed from its own OpenAPI schema (issue 23): schemathesis generates cases
for every operation, valid and invalid, signed in as admin and with no credentials at all; no
case may get a 5xx, and a signed-in valid case's answer must match the schema it declares.

Schemathesis' pytest plugin is not used (its `parametrize` does not run under this pytest): each
operation's strategy is run by hypothesis directly, seeded, with a bounded number of examples."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from console_factories import PASSWORD
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.slow

#: examples per operation and generation mode (half that without credentials, where every
#: answer is a refusal): bounded so that the whole file runs in well under a minute
EXAMPLES = 10
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def login(app: FastAPI) -> dict[str, str]:
    with asgi.get_client(app) as c:
        r = c.post(
            f"http://{asgi.HOST}/api/v1/auth/login",
            json={"username": "oper", "password": PASSWORD},
        )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


Check = Callable[[schemathesis.Case, object, GenerationMode], None]


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    headers: dict[str, str],
    check: Check,
    examples: int,
) -> int:
    """Run one operation's generated cases; returns how many were sent."""
    sent = 0

    @settings(FUZZ, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        check(case, case.call(headers=headers), mode)

    try:
        run()
    except Unsatisfiable:
        # No invalid request exists for an operation without inputs (GET /health).
        assert mode is GenerationMode.NEGATIVE
    return sent


def fuzz(
    app: FastAPI, headers: Callable[[], dict[str, str]], check: Check, examples: int
) -> tuple[int, int, list[str]]:
    """Every operation × {positive, negative}; returns (operations, cases run, failures)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = 0
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                # A fresh token per operation: fuzzing the logout revokes the one it was given.
                cases += fuzz_operation(operation, mode, headers(), check, examples)
            except Exception as exc:  # collected: every failing operation is reported below
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return operations, cases, failures


def test_signed_in_as_admin_no_server_error(app: FastAPI) -> None:
    def check(case: schemathesis.Case, response: object, mode: GenerationMode) -> None:
        checks = [not_a_server_error]
        if mode is GenerationMode.POSITIVE:
            checks.append(response_schema_conformance)
        case.validate_response(response, checks=checks)  # type: ignore[arg-type]

    operations, cases, failures = fuzz(app, lambda: login(app), check, EXAMPLES)
    print(f"signed in: {operations} operations, {cases} cases, {len(failures)} failing")
    assert operations >= 10
    assert not failures, "\n\n".join(failures)


#: paths that answer without credentials: the sign-in itself, the login page, the probes
PUBLIC = {"/api/v1/auth/login", "/login", "/health", "/healthz", "/readyz"}


def test_anonymous_refused_never_server_error(app: FastAPI) -> None:
    seen: set[int] = set()

    def check(case: schemathesis.Case, response: object, mode: GenerationMode) -> None:
        case.validate_response(response, checks=[not_a_server_error])  # type: ignore[arg-type]
        status = response.status_code  # type: ignore[attr-defined]
        if case.path in PUBLIC:
            assert status < 500, status
        else:
            assert status in (400, 401, 403, 404, 405, 422), status
        seen.add(status)

    operations, cases, failures = fuzz(app, dict, check, EXAMPLES // 2)
    print(f"anonymous: {operations} operations, {cases} cases, {len(failures)} failing, {seen=}")
    assert not failures, "\n\n".join(failures)
