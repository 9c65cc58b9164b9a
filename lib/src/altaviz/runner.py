"""Runs the Fabric Data Pipeline definition locally: same JSON, same notebooks, papermill instead of Fabric.

Activity order comes from ``dependsOn``; parameters are evaluated with the pipeline expression
language; each notebook is converted from Fabric source to .ipynb and executed with papermill.
Every executed notebook (success or failure) is kept under ``<ALTAVIZ_HOME>/runs/<run_id>/``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any
from uuid import uuid4

import nbformat

from altaviz import fabric_format, runtime
from altaviz.expressions import resolve


class PipelineError(RuntimeError):
    pass


@dataclass
class ActivityResult:
    name: str
    notebook: str
    status: str
    seconds: float
    output_notebook: Path
    exit_value: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    activities: list[ActivityResult] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return all(a.status == "succeeded" for a in self.activities)


def load_pipeline(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["properties"]
    except (OSError, KeyError, json.JSONDecodeError) as err:
        raise PipelineError(f"cannot read pipeline definition {path}: {err}") from err


def notebook_sources(notebooks_dir: Path) -> dict[str, Path]:
    """logicalId → notebook-content.py, from each ``*.Notebook/.platform`` (as Fabric resolves ids)."""
    found = {}
    for platform in sorted(notebooks_dir.glob("*.Notebook/.platform")):
        logical_id = json.loads(platform.read_text(encoding="utf-8"))["config"]["logicalId"]
        found[logical_id] = platform.parent / "notebook-content.py"
    return found


def activity_order(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Activities in dependency order; only ``Succeeded`` dependencies exist in a local run."""
    by_name = {a["name"]: a for a in activities}
    graph: dict[str, set[str]] = {}
    for a in activities:
        deps = set()
        for dep in a.get("dependsOn", []):
            if dep["activity"] not in by_name:
                raise PipelineError(f"activity {a['name']!r} depends on unknown activity {dep['activity']!r}")
            conditions = dep.get("dependencyConditions", ["Succeeded"])
            if conditions != ["Succeeded"]:
                raise PipelineError(
                    f"activity {a['name']!r}: only 'Succeeded' dependencies run locally, got {conditions}"
                )
            deps.add(dep["activity"])
        graph[a["name"]] = deps
    try:
        sorter = TopologicalSorter(graph)
        # Deterministic: among ready activities, the pipeline file's order wins.
        sorter.prepare()
        order: list[str] = []
        position = {a["name"]: i for i, a in enumerate(activities)}
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=position.__getitem__)
            order.extend(ready)
            sorter.done(*ready)
    except CycleError as err:
        raise PipelineError(f"dependsOn forms a cycle: {err.args[1]}") from err
    return [by_name[n] for n in order]


_CASTS: dict[str, Callable[[Any], Any]] = {
    "string": lambda v: "" if v is None else str(v),
    "int": int,
    "float": float,
    "bool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
}


def pipeline_parameters(definition: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    declared = definition.get("parameters", {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise PipelineError(f"unknown pipeline parameters {unknown}; declared: {sorted(declared)}")
    values = {}
    for name, spec in declared.items():
        raw = overrides.get(name, spec.get("defaultValue"))
        try:
            values[name] = _CASTS.get(spec.get("type", "string"), str)(raw)
        except (TypeError, ValueError) as err:
            raise PipelineError(f"pipeline parameter {name}={raw!r} is not a valid {spec.get('type')}") from err
    return values


def notebook_parameters(activity: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    params = {}
    for name, spec in activity.get("typeProperties", {}).get("parameters", {}).items():
        value = resolve(spec.get("value"), context)
        cast = _CASTS.get(spec.get("type", "string"))
        if cast is None:
            raise PipelineError(f"{activity['name']}: parameter {name} has unsupported type {spec.get('type')!r}")
        params[name] = cast(value)
    return params


def read_exit_value(executed: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The value the notebook passed to ``runtime.exit_notebook``, if it got that far."""
    for cell in reversed(executed.cells):
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(runtime.EXIT_MARKER):
                    return json.loads(line[len(runtime.EXIT_MARKER) :])
    return None


def new_run_id() -> str:
    return f"local-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid4().hex[:6]}"


Listener = Callable[[str, dict[str, Any]], None]


def run_pipeline(
    pipeline_path: Path,
    notebooks_dir: Path,
    *,
    overrides: dict[str, str] | None = None,
    home: Path | None = None,
    run_id: str | None = None,
    listener: Listener | None = None,
) -> RunResult:
    """Executes the pipeline; stops at the first failing activity, as Fabric does."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    definition = load_pipeline(pipeline_path)
    sources = notebook_sources(notebooks_dir)
    home = (home or runtime.state_home()).resolve()
    run_id = run_id or new_run_id()
    run_dir = home / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    # Notebook kernels inherit these: the same lakehouse and state folder, the venv's Python for workers.
    os.environ["ALTAVIZ_HOME"] = str(home)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

    context: dict[str, Any] = {
        "pipeline": {
            "parameters": pipeline_parameters(definition, overrides or {}),
            "RunId": run_id,
            "TriggerTime": datetime.now(UTC).isoformat(),
            "Pipeline": pipeline_path.parent.name,
        },
        "activities": {},
    }
    notify = listener or (lambda event, data: None)
    result = RunResult(run_id, run_dir)
    ordered = activity_order(definition.get("activities", []))
    notify("run_started", {"run_id": run_id, "run_dir": str(run_dir), "activities": [a["name"] for a in ordered]})
    for activity in ordered:
        name = activity["name"]
        if activity.get("type") != "TridentNotebook":
            raise PipelineError(f"activity {name!r} has type {activity.get('type')!r}; the local runner runs notebooks")
        notebook_id = activity["typeProperties"]["notebookId"]
        if notebook_id not in sources:
            raise PipelineError(f"activity {name!r} references notebook {notebook_id}, not found under {notebooks_dir}")
        source = sources[notebook_id]
        params = notebook_parameters(activity, context)
        input_nb = run_dir / f"{name}.input.ipynb"
        output_nb = run_dir / f"{name}.ipynb"
        nbformat.write(fabric_format.to_ipynb(fabric_format.parse(source.read_text(encoding="utf-8"))), input_nb)
        notify("activity_started", {"name": name, "notebook": str(source.parent.name), "parameters": params})
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(input_nb),
                str(output_nb),
                parameters=params,
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                cwd=str(Path.cwd()),
            )
        except PapermillExecutionError as err:
            failed = ActivityResult(
                name,
                source.parent.name,
                "failed",
                time.perf_counter() - started,
                output_nb,
                error=f"cell {err.cell_index} (execution {err.exec_count}): {err.ename}: {err.evalue}",
            )
            result.activities.append(failed)
            notify("activity_failed", failed.__dict__)
            break
        exit_value = read_exit_value(nbformat.read(output_nb, as_version=4))
        done = ActivityResult(
            name, source.parent.name, "succeeded", time.perf_counter() - started, output_nb, exit_value
        )
        result.activities.append(done)
        context["activities"][name] = {"output": {"result": {"exitValue": json.dumps(exit_value)}}}
        notify("activity_succeeded", done.__dict__)
    (run_dir / "summary.json").write_text(
        json.dumps(
            {"run_id": run_id, "succeeded": result.succeeded, "activities": [a.__dict__ for a in result.activities]},
            default=str,
            indent=2,
        ),
        encoding="utf-8",
    )
    return result
