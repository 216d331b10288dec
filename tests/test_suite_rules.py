"""The suite's own rules: no reads outside the repository, no silent skips in CI."""

from __future__ import annotations

import pytest

from tests import conftest


def test_a_missing_component_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        conftest.missing_component("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest.missing_component("no chromium")


def test_reads_of_the_shared_folder_are_recorded():
    probe = conftest.SHARED_DIR + "data/vietnews-dev.jsonl"
    conftest._audit_shared_reads("open", (probe, "r", 0))
    try:
        assert probe in conftest._shared_reads
    finally:
        conftest._shared_reads.discard(probe)
    conftest._audit_shared_reads("open", (str(conftest.SEED_ARTICLE), "r", 0))
    assert not conftest._shared_reads
