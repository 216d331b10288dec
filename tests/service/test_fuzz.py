"""Property-based fuzzing of every operation in ``/openapi.json`` with schemathesis.

Every generated request (valid and invalid) must get a documented status code, a
body matching the documented schema and never a 5xx; invalid input must be refused.
Left out: ``positive_data_acceptance`` (schema-valid input must get a 2xx), because
some rules cannot be written in the schema: a date must exist on the calendar, a text
must keep some content after cleaning, limits are set at run time. Those get a
documented 422 that says what to fix. Examples per operation are
kept small for CI; ``VNQA_FUZZ_EXAMPLES`` raises them for a longer local run.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from service.api.app import create_app
from tests.service.test_api import SEED

EXAMPLES = int(os.environ.get("VNQA_FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def api_schema(make_runtime):
    """The schema of an app over an index holding the seed article."""
    from index.documents import load_articles

    runtime = make_runtime()
    runtime.index.add_articles(list(load_articles(SEED)))
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime=runtime))


def runner(operation, mode: GenerationMode, calls: Counter, statuses: Counter):
    """A Hypothesis test sending ``EXAMPLES`` cases of ``operation`` through every check
    of ``call_and_validate`` (but ``positive_data_acceptance``, see the module doc)."""
    label = operation.label

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases every run: a failure reproduces
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: keep CI short
        database=None,
    )
    def run(case) -> None:
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        calls[label] += 1
        statuses[response.status_code] += 1

    return run


def fuzz(api_schema, mode: GenerationMode) -> tuple[Counter, Counter, list[str]]:
    """Fuzz every operation; returns requests per operation, status counts and one
    message per failing operation."""
    calls: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            runner(operation, mode, calls, statuses)()
        except Unsatisfiable:
            continue  # nothing in this operation can be made invalid (no inputs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # schemathesis raises a BaseExceptionGroup
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return calls, statuses, failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid-input", "invalid-input"])
def test_every_operation_conforms_and_never_5xx(api_schema, mode):
    calls, statuses, failures = fuzz(api_schema, mode)
    print(f"\nschemathesis {mode.value}: {sum(calls.values())} requests over "
          f"{len(calls)} operations, statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert not [s for s in statuses if s >= 500]
    # Every operation with inputs that can be made invalid was exercised.
    assert len(calls) >= (8 if mode is GenerationMode.POSITIVE else 4)
