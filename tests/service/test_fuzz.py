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

import json
import os
import re
import unicodedata
from collections import Counter
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from service.api.app import create_app
from tests.service.test_api import SEED

EXAMPLES = int(os.environ.get("VNQA_FUZZ_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def api_schema(make_runtime):
    """The schema of an app over an index holding the seed article."""
    from index.article_files import load_articles

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


@pytest.mark.parametrize(
    "mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid-input", "invalid-input"]
)
def test_every_operation_conforms_and_never_5xx(api_schema, mode):
    calls, statuses, failures = fuzz(api_schema, mode)
    print(
        f"\nschemathesis {mode.value}: {sum(calls.values())} requests over "
        f"{len(calls)} operations, statuses {dict(sorted(statuses.items()))}"
    )
    assert not failures, "\n\n".join(failures)
    assert not [s for s in statuses if s >= 500]
    # Every operation with inputs that can be made invalid was exercised.
    assert len(calls) >= (8 if mode is GenerationMode.POSITIVE else 4)


# -- hostile ids, raw paths and JSON files (issue 8, finding 5) ------------------------------
# schemathesis generates bodies from the schema, so it rarely draws a lone surrogate, a
# bidi control or the ids "." and ".."; and it never builds raw paths or upload files.
# These draw them on purpose and send them everywhere an id or a file goes.

_HOSTILE = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\u202e",
        "\u2066",
        "\u061c",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\x00",
        "\x1b",
        "\x85",
        "\u2028",
        "/",
        ".",
        " ",
        "%",
        "?",
        "#",
        "é",
        "e\u0301",
    ]
)
HOSTILE_IDS = st.one_of(
    st.sampled_from([".", "..", " .. ", "...", "", " "]),
    st.lists(st.one_of(_HOSTILE, st.characters()), min_size=1, max_size=12).map("".join),
)


@pytest.fixture(scope="module")
def client(make_runtime):
    """A client (server errors as responses) over an index holding the seed article."""
    from fastapi.testclient import TestClient

    from index.article_files import load_articles

    runtime = make_runtime()
    runtime.index.add_articles(list(load_articles(SEED)))
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        yield client


def _post(client, path: str, body: dict):
    """POST ``body`` as ASCII JSON: lone surrogates travel as ``\\ud800`` escapes."""
    return client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})


def _path(article_id: str) -> str:
    return "/v1/articles/" + quote(article_id.encode("utf-8", "surrogatepass"), safe="")


def _fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )


def test_hostile_ids_are_stored_exactly_or_refused_never_a_5xx(client):
    @given(HOSTILE_IDS)
    @_fuzz_settings(max(3 * EXAMPLES, 30))
    def run(article_id: str) -> None:
        created = _post(client, "/v1/articles", {"id": article_id, "text": "Bài thử mã."})
        assert created.status_code in (201, 422), created.text
        if created.status_code == 201:
            stored = created.json()["articles"][0]["id"]
            given_id = unicodedata.normalize("NFC", article_id).strip()
            assert stored == given_id if given_id else re.fullmatch("[0-9a-f]{16}", stored)
            assert client.get(_path(stored)).json()["id"] == stored  # round trip by path
            assert client.delete(_path(stored)).status_code == 200
        filters = {"article_ids": [article_id]}
        probes = [
            _post(client, "/v1/search", {"query": "an ninh", "filters": filters}),
            _post(client, "/v1/summarize", {"article_id": article_id}),
            client.get(_path(article_id)),
            client.delete(_path(article_id)),
            client.get(
                "/v1/articles/" + quote(article_id.encode("utf-8", "surrogatepass"), safe="/.")
            ),
        ]
        assert all(p.status_code < 500 for p in probes), [(p.status_code, p.text) for p in probes]
        # 307/405: an empty id leaves "/v1/articles/", which redirects or has no DELETE.
        assert all(p.status_code in (200, 307, 400, 404, 405, 422) for p in probes)

    run()


def test_hostile_json_uploads_are_refused_never_a_5xx(client):
    @given(
        depth=st.integers(1, 200_000),
        digits=st.integers(1, 10_000),
        suffix=st.sampled_from([".json", ".jsonl"]),
    )
    @_fuzz_settings(max(2 * EXAMPLES, 20))
    def run(depth: int, digits: int, suffix: str) -> None:
        for body in (
            b"[" * depth + b"]" * depth,
            b'{"text": "S\\u1ed1 d\\u00e0i.", "n": ' + b"7" * digits + b"}",
            b'{"text": "x.", "id": ' + b"7" * digits + b"}",
        ):
            response = client.post(
                "/v1/articles/upload", files={"file": (f"f{suffix}", body + b"\n", "text/plain")}
            )
            assert response.status_code in (201, 422), response.text
            if response.status_code == 201:
                for stored in response.json()["articles"]:
                    client.delete(_path(stored["id"]))

    run()
