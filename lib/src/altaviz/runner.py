"""Runs the Fabric Data Pipeline definition locally: same JSON, same notebooks, papermill instead of Fabric.

Activity order comes from ``dependsOn``; an activity runs when every dependency ended in one of
its ``dependencyConditions`` (Succeeded, Failed, Completed = succeeded or failed, Skipped) and is
skipped otherwise, as in Fabric; so an on-failure path (``["Failed", "Skipped"]`` on the last
activity) runs locally too. Parameters are evaluated with the pipeline expression language, where
``activity('x').error.message`` is a failed activity's error. Notebooks (``TridentNotebook``) are
converted from Fabric source to .ipynb and executed with papermill; a ``Fail`` activity fails with
its message.
Every executed notebook (success or failure) is kept under ``<ALTAVIZ_HOME>/runs/<run_id>/``.

As in a Fabric high-concurrency pipeline session, one kernel — one Python process, one JVM, one
Spark session — serves every notebook of a run; each notebook still gets its own parameters, a
clean namespace and its own executed copy. What the kernel and the JVM print (Spark and Ivy
start-up, warnings) goes to the run folder's ``run.log``, not to the terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any
from uuid import uuid4

import nbformat

from altaviz import fabric_format, progress, runlock, runtime
from altaviz.expressions import resolve

KERNEL = "python3"
# Runs between notebooks in the shared kernel: the next notebook starts from an empty namespace,
# while imported modules and the Spark session stay.
RESET_NAMESPACE = "get_ipython().run_line_magic('reset', '-f')"


class PipelineError(RuntimeError):
    pass


@dataclass
class ActivityResult:
    name: str
    notebook: str
    status: str
    seconds: float
    output_notebook: Path | None  # None for Fail activities and skipped ones
    exit_value: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    activities: list[ActivityResult] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """No activity failed (a handled failure still fails the run: its Fail activity says so)."""
        return not any(a.status == "failed" for a in self.activities)


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


# Fabric's dependency conditions → the ending states of the dependency each one accepts.
CONDITIONS = {
    "Succeeded": {"succeeded"},
    "Failed": {"failed"},
    "Completed": {"succeeded", "failed"},
    "Skipped": {"skipped"},
}
ACTIVITY_TYPES = ("TridentNotebook", "Fail")


def activity_order(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Activities in dependency order; unknown dependencies or conditions, and cycles, are refused."""
    by_name = {a["name"]: a for a in activities}
    graph: dict[str, set[str]] = {}
    for a in activities:
        deps = set()
        for dep in a.get("dependsOn", []):
            if dep["activity"] not in by_name:
                raise PipelineError(f"activity {a['name']!r} depends on unknown activity {dep['activity']!r}")
            conditions = dep.get("dependencyConditions", ["Succeeded"])
            unknown = [c for c in conditions if c not in CONDITIONS]
            if not conditions or unknown:
                raise PipelineError(
                    f"activity {a['name']!r}: dependency conditions {conditions} on {dep['activity']!r}; "
                    f"known: {', '.join(CONDITIONS)}"
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


def should_run(activity: dict[str, Any], ended: dict[str, str]) -> bool:
    """Whether every dependency ended in a state one of its conditions accepts (Fabric ANDs dependencies)."""
    return all(
        ended[dep["activity"]] in set().union(*(CONDITIONS[c] for c in dep.get("dependencyConditions", ["Succeeded"])))
        for dep in activity.get("dependsOn", [])
    )


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


def _forwarding_client_class() -> type:
    """papermill's notebook client, also handing every output to ``forward`` as it arrives."""
    from papermill.clientwrap import PapermillNotebookClient

    class ForwardingClient(PapermillNotebookClient):
        forward: Callable[[Any], None] | None = None

        def process_message(self, *args: Any, **kwargs: Any) -> Any:
            output = super().process_message(*args, **kwargs)
            if output is not None and self.forward is not None:
                self.forward(output)
            return output

    return ForwardingClient


def _shared_kernel_engine() -> type:
    """A papermill engine that runs notebooks in a kernel the runner started (and keeps)."""
    from papermill.engines import NBClientEngine

    client_class = _forwarding_client_class()

    class SharedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            km: Any = None,
            forward: Callable[[Any], None] | None = None,
            **kwargs: Any,
        ) -> Any:
            client = client_class(
                nb_man, km=km, kernel_name=kernel_name, startup_timeout=start_timeout, timeout=execution_timeout
            )
            client.forward = forward
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    return SharedKernelEngine


@contextmanager
def shared_kernel(log_file: Path, cwd: Path) -> Iterator[Any]:
    """Starts one Jupyter kernel whose own output (and its JVM's) goes to ``log_file``; stops it at the end."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=KERNEL)
    with open(log_file, "ab") as sink:  # append mode: the runner writes to the same file
        # A pipeline run: runtime.preview shows nothing (no one looks at the executed notebooks).
        env = {**os.environ, runtime.PIPELINE_RUN_ENV: "1"}
        km.start_kernel(stdout=sink, stderr=sink, cwd=str(cwd), env=env)
    try:
        yield km
    finally:
        km.shutdown_kernel(now=False)


def _run_in_kernel(km: Any, code: str) -> None:
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(code, store_history=False, timeout=60, output_hook=lambda msg: None)
        if reply["content"]["status"] != "ok":
            raise PipelineError(f"the shared kernel refused {code!r}: {reply['content'].get('evalue')}")
    finally:
        kc.stop_channels()


class _RunLog:
    """The run folder's log: kernel and JVM output (written by the kernel process itself) and every
    notebook's printed output, prefixed with its activity; progress lines also go to the listener."""

    def __init__(self, path: Path, notify: Listener) -> None:
        self.path, self.notify, self.activity = path, notify, ""
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115  (closed by close())

    def forward(self, output: Any) -> None:
        if output.get("output_type") == "stream":
            text = "".join(output.get("text", ""))
        elif output.get("output_type") == "error":
            text = f"{output.get('ename')}: {output.get('evalue')}\n"
        else:
            return
        for line in text.splitlines():
            self._file.write(f"[{self.activity}] {line}\n")
            if line.startswith(progress.MARK):
                self.notify("progress", {"name": self.activity, "line": line[len(progress.MARK) :]})
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@contextmanager
def _quiet_libraries(log_path: Path) -> Iterator[None]:
    """papermill's and jupyter's own log lines go to the run log instead of the terminal."""
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(n) for n in ("papermill", "nbclient", "traitlets", "jupyter_client")]
    saved = [(lg.handlers[:], lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
    try:
        yield
    finally:
        for lg, (handlers, propagate) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
        handler.close()


def run_pipeline(
    pipeline_path: Path,
    notebooks_dir: Path,
    *,
    overrides: dict[str, str] | None = None,
    home: Path | None = None,
    run_id: str | None = None,
    listener: Listener | None = None,
) -> RunResult:
    """Executes the pipeline as Fabric does: after a failure, only activities whose dependency
    conditions accept it run (an on-failure path); the rest are skipped. One run at a time per
    state folder: raises ``runlock.RunLockedError`` while another run holds it."""
    home = (home or runtime.state_home()).resolve()
    run_id = run_id or new_run_id()
    notify = listener or (lambda event, data: None)
    with runlock.exclusive_run(home, run_id) as left_behind:
        if left_behind:
            notify("lock_cleared", left_behind)
        return _run_holding_lock(pipeline_path, notebooks_dir, overrides or {}, home, run_id, notify)


def _run_holding_lock(
    pipeline_path: Path,
    notebooks_dir: Path,
    overrides: dict[str, str],
    home: Path,
    run_id: str,
    notify: Listener,
) -> RunResult:
    import papermill
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError

    definition = load_pipeline(pipeline_path)
    sources = notebook_sources(notebooks_dir)
    run_dir = home / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    # The kernel inherits these: the same lakehouse and state folder, the venv's Python for workers.
    os.environ["ALTAVIZ_HOME"] = str(home)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

    context: dict[str, Any] = {
        "pipeline": {
            "parameters": pipeline_parameters(definition, overrides),
            "RunId": run_id,
            "TriggerTime": datetime.now(UTC).isoformat(),
            "Pipeline": pipeline_path.parent.name,
        },
        "activities": {},
    }
    result = RunResult(run_id, run_dir)
    ordered = activity_order(definition.get("activities", []))
    for activity in ordered:
        if activity.get("type") not in ACTIVITY_TYPES:
            raise PipelineError(
                f"activity {activity['name']!r} has type {activity.get('type')!r}; the local runner runs "
                f"{' and '.join(ACTIVITY_TYPES)} activities"
            )
        if activity["type"] == "TridentNotebook" and activity["typeProperties"]["notebookId"] not in sources:
            raise PipelineError(
                f"activity {activity['name']!r} references notebook {activity['typeProperties']['notebookId']}, "
                f"not found under {notebooks_dir}"
            )
    papermill_engines.register("altaviz-shared-kernel", _shared_kernel_engine())
    log_path = run_dir / "run.log"
    run_log = _RunLog(log_path, notify)
    notify(
        "run_started",
        {"run_id": run_id, "run_dir": str(run_dir), "log": str(log_path), "activities": [a["name"] for a in ordered]},
    )
    try:
        with _quiet_libraries(log_path), shared_kernel(log_path, Path.cwd()) as km:
            ended: dict[str, str] = {}
            kernel_used = False
            for activity in ordered:
                name = activity["name"]
                if not should_run(activity, ended):
                    skipped = ActivityResult(name, "", "skipped", 0.0, None)
                    result.activities.append(skipped)
                    ended[name] = "skipped"
                    context["activities"][name] = {"status": "Skipped", "output": None, "error": None}
                    notify("activity_skipped", skipped.__dict__)
                    continue
                if activity["type"] == "Fail":
                    props = activity.get("typeProperties", {})
                    message = str(resolve(props.get("message", ""), context))
                    code = str(resolve(props.get("errorCode", ""), context))
                    failed = ActivityResult(
                        name, "", "failed", 0.0, None, error=f"{code}: {message}" if code else message
                    )
                    result.activities.append(failed)
                    ended[name] = "failed"
                    context["activities"][name] = {
                        "status": "Failed",
                        "output": None,
                        "error": {"message": message, "errorCode": code},
                    }
                    notify("activity_failed", {**failed.__dict__, "log": str(log_path)})
                    continue
                source = sources[activity["typeProperties"]["notebookId"]]
                params = notebook_parameters(activity, context)
                input_nb = run_dir / f"{name}.input.ipynb"
                output_nb = run_dir / f"{name}.ipynb"
                nbformat.write(
                    fabric_format.to_ipynb(fabric_format.parse(source.read_text(encoding="utf-8"))), input_nb
                )
                notify("activity_started", {"name": name, "notebook": str(source.parent.name), "parameters": params})
                run_log.activity = name
                started = time.perf_counter()
                try:
                    if kernel_used:
                        _run_in_kernel(km, RESET_NAMESPACE)
                    kernel_used = True
                    papermill.execute_notebook(
                        str(input_nb),
                        str(output_nb),
                        parameters=params,
                        engine_name="altaviz-shared-kernel",
                        kernel_name=KERNEL,
                        progress_bar=False,
                        log_output=False,
                        km=km,
                        forward=run_log.forward,
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
                    ended[name] = "failed"
                    # As in Fabric: the error is there for later activities' expressions.
                    context["activities"][name] = {
                        "status": "Failed",
                        "output": None,
                        "error": {"message": failed.error, "errorCode": err.ename},
                    }
                    notify("activity_failed", {**failed.__dict__, "log": str(log_path)})
                    continue
                exit_value = read_exit_value(nbformat.read(output_nb, as_version=4))
                done = ActivityResult(
                    name, source.parent.name, "succeeded", time.perf_counter() - started, output_nb, exit_value
                )
                result.activities.append(done)
                ended[name] = "succeeded"
                context["activities"][name] = {
                    "status": "Succeeded",
                    "output": {"result": {"exitValue": json.dumps(exit_value)}},
                    "error": None,
                }
                notify("activity_succeeded", done.__dict__)
    finally:
        run_log.close()
    (run_dir / "summary.json").write_text(
        json.dumps(
            {"run_id": run_id, "succeeded": result.succeeded, "activities": [a.__dict__ for a in result.activities]},
            default=str,
            indent=2,
        ),
        encoding="utf-8",
    )
    return result
