"""runtime.preview shows rows only when someone is looking: an interactive Fabric session or a local
Jupyter kernel; never in a pipeline run, under the runner's papermill, or when unsure. No Spark."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from altaviz import runtime


class Untouchable:
    """A frame that fails if a preview touches it (a preview outside a session runs no Spark job)."""

    def limit(self, n):
        raise AssertionError("preview ran a Spark job where no one is looking")


def _fabric(monkeypatch, context):
    utils = SimpleNamespace(runtime=SimpleNamespace(context=context))
    monkeypatch.setattr(runtime, "_notebookutils", lambda: utils)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv(runtime.PREVIEW_ENV, raising=False)
    monkeypatch.delenv(runtime.PIPELINE_RUN_ENV, raising=False)


@pytest.mark.parametrize(
    ("context", "interactive"),
    [
        ({"isForPipeline": False, "isForInteractive": True, "isReferenceRun": False}, True),
        ({"isForPipeline": True, "isForInteractive": False, "isReferenceRun": False}, False),
        ({"isForPipeline": False, "isForInteractive": True, "isReferenceRun": True}, False),  # notebook.run
        ({}, False),  # a runtime without the flags: unsure, so no preview
    ],
)
def test_in_fabric_only_an_interactive_session_outside_a_pipeline_previews(monkeypatch, context, interactive):
    _fabric(monkeypatch, context)
    assert runtime.is_interactive() is interactive


def test_a_run_started_by_the_local_runner_or_a_plain_python_process_does_not_preview(monkeypatch):
    monkeypatch.setattr(runtime, "_notebookutils", lambda: None)
    assert runtime.is_interactive() is False  # pytest: no Jupyter kernel
    monkeypatch.setenv(runtime.PIPELINE_RUN_ENV, "1")
    assert runtime.is_interactive() is False
    runtime.preview(Untouchable())


def test_altaviz_preview_forces_previews_on_or_off(monkeypatch):
    _fabric(monkeypatch, {"isForPipeline": False, "isForInteractive": True})
    monkeypatch.setenv(runtime.PREVIEW_ENV, "0")
    assert runtime.is_interactive() is False
    runtime.preview(Untouchable())
    monkeypatch.setattr(runtime, "_notebookutils", lambda: None)
    monkeypatch.setenv(runtime.PREVIEW_ENV, "1")
    assert runtime.is_interactive() is True
