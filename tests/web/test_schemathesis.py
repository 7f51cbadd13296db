"""schemathesis against /openapi.json, in process (ASGI): for every operation, generated requests that follow
the document and requests that break it must get no server error, and every answer must match the document:
status code, content type (problem+json for errors), headers and body schema; a request that breaks the schema
must be refused (so a JSON ``false`` is not taken for a number, nor ``"5"`` for 5). Calls are made as an
administrator (an API token with every scope) and as a submitter (read and submit), so both answers and
refusals are exercised. (schemathesis' pytest plugin is not used: its fixture loader breaks on this pytest;
each operation's Hypothesis strategy is run directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = 20


def _exercise(operation, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    run()


@pytest.mark.parametrize("role,scopes", [("administrator", ("read", "submit", "admin")), ("submitter", ("read", "submit"))])
def test_api_conforms_to_its_document(world, role, scopes):
    token = world.token(role, scopes)
    # the credentials are given (a real token); generating broken Authorization headers would test nothing here
    config = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app, config=config)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 25
    for op in operations:
        _exercise(op, GenerationMode.POSITIVE, token)
        try:
            _exercise(op, GenerationMode.NEGATIVE, token)
        except Unsatisfiable:  # nothing to break: the operation takes no parameters and no body
            assert not op.path_parameters and not op.query and not op.body, op.label
