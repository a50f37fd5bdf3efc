"""The API against its own OpenAPI schema, by schemathesis (property-based): every operation
with generated inputs, as an administrator (API token) and anonymously. Fails on any 5xx,
an undocumented status code or content type, or a body or header the schema does not
describe.

Bounded for CI: a fixed seed, ``MAX_EXAMPLES`` generated cases per operation (plus the
schema's own examples, which name the seeded objects), job runners stubbed out. Run alone:
``pytest tests/contract --db sqlite``.
"""
from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis import checks as st_checks

from tests.helpers import add_study, raw_labels

MAX_EXAMPLES = int(os.environ.get("LUNGLAB_CONTRACT_EXAMPLES", "8"))
SEED = 17
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance,
          st_checks.content_type_conformance, st_checks.response_schema_conformance,
          st_checks.response_headers_conformance]
HYPOTHESIS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                      database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def seeded(app, admin_api):  # type: ignore[no-untyped-def]
    """Project 1 with study 1 and its label-map version 1, a reader, an API token; jobs are
    recorded but never run (the contract is the API's, not the workers')."""
    app.state.runner.submit = lambda job_id, kind: None
    pid = admin_api.post("/api/projects", json={"name": "P", "description": ""}).json()["id"]
    sid = add_study(app, pid)
    lab = np.zeros((6, 32, 40), np.uint8)
    lab[:, 6:26, 5:18] = 1
    lab[2:4, 10:14, 7:11] = 2
    r = admin_api.post(f"/api/studies/{sid}/versions", files={"file": raw_labels(lab)},
                       data={"format": "raw"})
    assert r.status_code == 201, r.text
    token = admin_api.post("/api/auth/tokens", json={"name": "contract"}).json()["token"]
    return app, token


def run_contract(app, headers: dict[str, str]) -> tuple[Counter[int], list[str]]:  # type: ignore[no-untyped-def]
    """Every operation of the schema, ``MAX_EXAMPLES`` generated cases each (fixed seed).

    Returns:
        ``(answers by status code, failures)``; a failure names the operation, the check and the
        curl command that reproduces it.
    """
    from hypothesis import given

    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    sent: Counter[int] = Counter()
    failures: list[str] = []
    def checker(label: str, strategy, count: int):  # type: ignore[no-untyped-def]
        @seed(SEED)
        @settings(HYPOTHESIS, max_examples=count)
        @given(case=strategy)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            sent[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # schemathesis' FailureGroup and friends
                failures.append(f"{label}: {str(exc)[:1500]}")
                raise

        return check

    for result in api.get_all_operations():
        operation = result.ok()
        # the schema's examples first (ids 1: the seeded objects), then generated cases
        strategies = [(strategy, 1) for strategy in operation.get_strategies_from_examples()]
        strategies.append((operation.as_strategy(), MAX_EXAMPLES))
        for strategy, count in strategies:
            found = len(failures)
            try:
                checker(operation.label, strategy, count)()
            except Exception:
                if len(failures) == found:  # not a contract failure: the harness broke
                    raise
                # recorded (the shrunk case last); carry on with the next operation
    return sent, failures


def test_api_as_administrator(seeded) -> None:  # type: ignore[no-untyped-def]
    app, token = seeded
    sent, failures = run_contract(app, {"Authorization": f"Bearer {token}"})
    print(f"schemathesis as administrator: {sum(sent.values())} requests {dict(sent)}, "
          f"{len(failures)} failures")
    assert sent[200] + sent[201] + sent[204] > 40  # the seeded objects were reached
    assert not failures, "\n\n".join(dict.fromkeys(failures))


def test_api_anonymously(seeded) -> None:  # type: ignore[no-untyped-def]
    app, _ = seeded
    sent, failures = run_contract(app, {})
    print(f"schemathesis anonymously: {sum(sent.values())} requests {dict(sent)}, "
          f"{len(failures)} failures")
    assert not failures, "\n\n".join(dict.fromkeys(failures))
