"""schemathesis against the server's own OpenAPI schema: generated requests, valid and not,
to every operation; none may be answered with a 5xx. (Driven through hypothesis directly:
schemathesis' pytest plugin does not run under this pytest.)"""

from hypothesis import HealthCheck, given, settings

import schemathesis
from hostile import PLUGINS, environment
from lifelong.server import create_app


def test_no_operation_answers_a_server_error(hostile_ws):
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}):
        app = create_app(hostile_ws, allowed_hosts=["testserver"])
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.path for op in operations} >= {"/v1/chat/completions", "/v1/feedback", "/v1/learn"}
        for operation in operations:

            @given(operation.as_strategy())
            @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def no_server_error(case):
                response = case.call()
                assert response.status_code < 500, (
                    f"{case.method} {case.path} {case.body!r}: {response.status_code} {response.text[:300]}")

            no_server_error()
