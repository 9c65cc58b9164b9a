"""The local runner: expression evaluation, activity order, parameters, failures (no Spark needed)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from altaviz import runner
from altaviz.expressions import ExpressionError, evaluate, resolve

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json"

CONTEXT = {
    "pipeline": {"parameters": {"n": 10, "date": "2026-01-02", "empty": ""}, "RunId": "r-1"},
    "activities": {"a": {"output": {"result": {"exitValue": '{"rows": 5}'}}}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("@pipeline().parameters.n", 10),
        ("@pipeline().RunId", "r-1"),
        ("@pipeline()['parameters']['date']", "2026-01-02"),
        ("@json(activity('a').output.result.exitValue).rows", 5),
        ("@concat('run-', pipeline().RunId)", "run-r-1"),
        ("@if(empty(pipeline().parameters.empty), 'today', 'given')", "today"),
        ("@coalesce(null, 'x')", "x"),
        ("day @{pipeline().parameters.date}!", "day 2026-01-02!"),
        ("@@literal", "@literal"),
        ("plain", "plain"),
    ],
)
def test_expressions_evaluate_like_fabric(expression, expected):
    assert evaluate(expression, CONTEXT) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("@pipeline().parameters.missing", "no 'missing'"),
        ("@activity('later').output", "has not run yet"),
        ("@substring('abc', 0, 1)", "substring() is not supported"),
        ("@pipeline(", "expected"),
    ],
)
def test_unsupported_or_broken_expressions_fail_loudly(expression, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate(expression, CONTEXT)


def test_parameter_values_resolve_expression_objects():
    assert resolve({"value": "@pipeline().parameters.n", "type": "Expression"}, CONTEXT) == 10
    assert resolve(7, CONTEXT) == 7


def test_committed_pipeline_runs_01_to_05_in_order_scoring_before_publishing_then_its_on_failure_path():
    definition = runner.load_pipeline(PIPELINE)
    assert [a["name"] for a in runner.activity_order(definition["activities"])] == [
        "01_simulate",
        "02_bronze",
        "03_silver",
        "04_gold",
        "07_score",
        "05_publish",
        "09_record_failure",
        "run_failed",
    ]


def _dep(name, *conditions):
    return {"activity": name, "dependencyConditions": list(conditions)}


@pytest.mark.parametrize(
    ("conditions", "runs_after"),
    [
        (["Succeeded"], {"succeeded"}),
        (["Failed"], {"failed"}),
        (["Completed"], {"succeeded", "failed"}),
        (["Skipped"], {"skipped"}),
        (["Failed", "Skipped"], {"failed", "skipped"}),
    ],
)
def test_dependency_conditions_decide_whether_an_activity_runs(conditions, runs_after):
    activity = {"name": "b", "dependsOn": [_dep("a", *conditions)]}
    for state in ("succeeded", "failed", "skipped"):
        assert runner.should_run(activity, {"a": state}) == (state in runs_after), state


def test_several_dependencies_must_all_hold_and_unknown_conditions_are_refused():
    both = {"name": "c", "dependsOn": [_dep("a", "Succeeded"), _dep("b", "Failed")]}
    assert runner.should_run(both, {"a": "succeeded", "b": "failed"})
    assert not runner.should_run(both, {"a": "succeeded", "b": "succeeded"})
    with pytest.raises(runner.PipelineError, match="known: Succeeded, Failed, Completed, Skipped"):
        runner.activity_order([{"name": "a"}, {"name": "b", "dependsOn": [_dep("a", "Sometimes")]}])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("@coalesce(activity('bad').error?.message, '')", "boom"),
        ("@coalesce(activity('a').error?.message, '')", ""),
        ("@coalesce(activity('skipped').output?.result?.exitValue, 'none')", "none"),
        ("@coalesce(activity('a').output?.missing, 'none')", "none"),
    ],
)
def test_a_failed_activity_error_is_there_for_expressions(expression, expected):
    context = {
        **CONTEXT,
        "activities": {
            "a": {"status": "Succeeded", "output": {"result": {"exitValue": "{}"}}, "error": None},
            "bad": {"status": "Failed", "output": None, "error": {"message": "boom", "errorCode": "E"}},
            "skipped": {"status": "Skipped", "output": None, "error": None},
        },
    }
    assert evaluate(expression, context) == expected


def test_order_follows_depends_on_not_file_order_and_rejects_cycles():
    acts = [
        {"name": "b", "dependsOn": [{"activity": "a", "dependencyConditions": ["Succeeded"]}]},
        {"name": "a", "dependsOn": []},
    ]
    assert [a["name"] for a in runner.activity_order(acts)] == ["a", "b"]
    acts[1]["dependsOn"] = [{"activity": "b", "dependencyConditions": ["Succeeded"]}]
    with pytest.raises(runner.PipelineError, match="cycle"):
        runner.activity_order(acts)
    with pytest.raises(runner.PipelineError, match="unknown activity"):
        runner.activity_order([{"name": "x", "dependsOn": [{"activity": "nope"}]}])


def test_pipeline_parameters_are_typed_and_unknown_ones_rejected():
    definition = runner.load_pipeline(PIPELINE)
    values = runner.pipeline_parameters(definition, {"n_compressors": "25"})
    assert values["n_compressors"] == 25 and values["days"] == 7 and values["run_date"] == ""
    with pytest.raises(runner.PipelineError, match="unknown pipeline parameters"):
        runner.pipeline_parameters(definition, {"n_compresors": "25"})
    with pytest.raises(runner.PipelineError, match="not a valid int"):
        runner.pipeline_parameters(definition, {"days": "seven"})


def _write_notebook(folder: Path, name: str, logical_id: str, code: str) -> None:
    from altaviz.fabric_format import FabricCell, FabricNotebook, render

    item = folder / f"{name}.Notebook"
    item.mkdir(parents=True)
    (item / ".platform").write_text(
        json.dumps(
            {
                "metadata": {"type": "Notebook", "displayName": name},
                "config": {"version": "2.0", "logicalId": logical_id},
            }
        )
    )
    py = {"language": "python", "language_group": "synapse_pyspark"}
    cells = [FabricCell("parameters", 'value = ""', dict(py)), FabricCell("code", code, dict(py))]
    (item / "notebook-content.py").write_text(
        render(FabricNotebook({"kernel_info": {"name": "synapse_pyspark"}}, cells))
    )


def _pipeline(tmp_path: Path) -> Path:
    def act(name, lid, deps, value):
        return {
            "name": name,
            "type": "TridentNotebook",
            "dependsOn": [{"activity": d, "dependencyConditions": ["Succeeded"]} for d in deps],
            "typeProperties": {
                "notebookId": lid,
                "workspaceId": "0",
                "parameters": {"value": {"value": {"value": value, "type": "Expression"}, "type": "string"}},
            },
        }

    path = tmp_path / "pipeline-content.json"
    path.write_text(
        json.dumps(
            {
                "properties": {
                    "parameters": {"greeting": {"type": "string", "defaultValue": "hello"}},
                    "activities": [
                        act("first", "id-1", [], "@pipeline().parameters.greeting"),
                        act("second", "id-2", ["first"], "@json(activity('first').output.result.exitValue).echo"),
                        act("third", "id-3", ["second"], "never"),
                    ],
                }
            }
        )
    )
    return path


def test_a_local_run_passes_exit_values_on_and_stops_at_the_failing_cell(tmp_path):
    notebooks = tmp_path / "notebooks"
    _write_notebook(
        notebooks, "first", "id-1", "from altaviz import runtime\nruntime.exit_notebook({'echo': value.upper()})"
    )
    _write_notebook(
        notebooks, "second", "id-2", "assert value == 'HELLO', value\nraise RuntimeError('bad gauge ' + value)"
    )
    _write_notebook(notebooks, "third", "id-3", "print('unreachable')")
    result = runner.run_pipeline(_pipeline(tmp_path), notebooks, home=tmp_path / "home", run_id="t-1")
    assert [(a.name, a.status) for a in result.activities] == [
        ("first", "succeeded"),
        ("second", "failed"),
        ("third", "skipped"),
    ]
    assert result.activities[0].exit_value == {"echo": "HELLO"}
    assert "cell 2" in result.activities[1].error and "RuntimeError: bad gauge HELLO" in result.activities[1].error
    kept = sorted(p.name for p in (tmp_path / "home/runs/t-1").glob("*.ipynb"))
    assert kept == ["first.input.ipynb", "first.ipynb", "second.input.ipynb", "second.ipynb"]
    summary = json.loads((tmp_path / "home/runs/t-1/summary.json").read_text())
    assert summary["succeeded"] is False


def test_cli_exits_non_zero_and_names_the_failing_notebook(tmp_path):
    notebooks = tmp_path / "notebooks"
    _write_notebook(notebooks, "first", "id-1", "raise ValueError('sensor feed missing')")
    _write_notebook(notebooks, "second", "id-2", "pass")
    _write_notebook(notebooks, "third", "id-3", "pass")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "altaviz.cli",
            "run",
            "--pipeline",
            str(_pipeline(tmp_path)),
            "--notebooks",
            str(notebooks),
            "--home",
            str(tmp_path / "home"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "first failed" in proc.stdout and "ValueError: sensor feed missing" in proc.stdout
    assert "first.ipynb" in proc.stdout
    assert "run.log" in proc.stdout  # the pointer to the full log of a failed run
    assert "Kernel is running over TCP" not in proc.stdout + proc.stderr  # plumbing stays in the run log


def test_notebooks_of_a_run_share_one_kernel_but_not_their_variables(tmp_path):
    notebooks = tmp_path / "notebooks"
    _write_notebook(
        notebooks,
        "first",
        "id-1",
        "import os\nfrom altaviz import progress, runtime\nleftover = 1\n"
        "progress.report('first', 'half way')\nruntime.exit_notebook({'echo': str(os.getpid())})",
    )
    _write_notebook(
        notebooks,
        "second",
        "id-2",
        "import os\nfrom altaviz import runtime\nassert 'leftover' not in globals(), 'namespace leaked'\n"
        "assert value == str(os.getpid()), (value, os.getpid())\n"
        "assert not runtime.is_interactive(), 'a pipeline run would preview'\n"
        "runtime.exit_notebook({'same_process': True})",
    )
    _write_notebook(notebooks, "third", "id-3", "print('third ran')")
    events = []
    result = runner.run_pipeline(
        _pipeline(tmp_path),
        notebooks,
        home=tmp_path / "home",
        run_id="t-2",
        listener=lambda e, d: events.append((e, d)),
    )
    assert result.succeeded, [a.error for a in result.activities]
    assert result.activities[1].exit_value == {"same_process": True}
    assert ("progress", {"name": "first", "line": "first · half way"}) in events
    log = (tmp_path / "home/runs/t-2/run.log").read_text()
    assert "[third] third ran" in log and "[first] ▸ first · half way" in log


def test_an_on_failure_path_runs_gets_the_error_and_the_run_still_fails(tmp_path):
    """first fails → second is skipped → handler (Failed or Skipped on second) runs with first's
    error → a Fail activity fails the run, as the committed pipeline's on-failure path does."""
    notebooks = tmp_path / "notebooks"
    _write_notebook(notebooks, "first", "id-1", "raise ValueError('sensor feed missing')")
    _write_notebook(notebooks, "second", "id-2", "print('unreachable')")
    _write_notebook(
        notebooks, "handler", "id-3", "from altaviz import runtime\nruntime.exit_notebook({'recorded': value})"
    )

    def notebook(name, lid, deps, value):
        return {
            "name": name,
            "type": "TridentNotebook",
            "dependsOn": deps,
            "typeProperties": {
                "notebookId": lid,
                "workspaceId": "0",
                "parameters": {"value": {"value": {"value": value, "type": "Expression"}, "type": "string"}},
            },
        }

    activities = [
        notebook("first", "id-1", [], "x"),
        notebook("second", "id-2", [_dep("first", "Succeeded")], "x"),
        notebook(
            "handler",
            "id-3",
            [_dep("second", "Failed", "Skipped")],
            "@coalesce(activity('first').error?.message, '')",
        ),
        {
            "name": "run_failed",
            "type": "Fail",
            "dependsOn": [_dep("handler", "Completed")],
            "typeProperties": {
                "message": {
                    "value": "@json(activity('handler').output.result.exitValue).recorded",
                    "type": "Expression",
                },
                "errorCode": "AltavizRunFailed",
            },
        },
        notebook("after_success_only", "id-2", [_dep("second", "Succeeded")], "x"),
    ]
    path = tmp_path / "pipeline-content.json"
    path.write_text(json.dumps({"properties": {"parameters": {}, "activities": activities}}))
    result = runner.run_pipeline(path, notebooks, home=tmp_path / "home", run_id="t-3")
    assert [(a.name, a.status) for a in result.activities] == [
        ("first", "failed"),
        ("second", "skipped"),
        ("handler", "succeeded"),
        ("after_success_only", "skipped"),
        ("run_failed", "failed"),
    ]
    handler = result.activities[2]
    assert "ValueError: sensor feed missing" in handler.exit_value["recorded"]
    assert result.activities[4].error.startswith("AltavizRunFailed: cell ")
    assert "sensor feed missing" in result.activities[4].error
    assert not result.succeeded
    assert json.loads((tmp_path / "home/runs/t-3/summary.json").read_text())["succeeded"] is False
