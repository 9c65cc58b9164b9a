"""Crash recovery: `altaviz run` killed with SIGKILL inside every notebook, then rerun, ends where a
clean run ends.

Two state folders get the same tiny fleet (same seed, same run dates). Both run day 1 cleanly and an
operator acknowledges an alert in the serving database. Then the reference runs day 2 once; the
crashed folder runs day 2 again and again, each run killed (the CLI, its kernel and its JVM, as a
power cut or the OOM killer would) at a point one notebook further on — the notebooks are read from
the pipeline definition, so a notebook added to the pipeline is killed too — and inside 05_publish
while its transaction is open; a last run completes. Every lakehouse data table and serving table
must then equal the reference's, run ids and processing times aside; no table holds a duplicate key;
the acknowledgement survives; each run after a kill reports the interrupted run's lock as cleared;
and the dashboard never saw half a publish.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psutil
import psycopg
import pytest
from deltalake import DeltaTable

from altaviz.runner import activity_order, load_pipeline
from altaviz.schemas import TABLES

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines" / "altaviz_pipeline.DataPipeline" / "pipeline-content.json"
SCHEDULE = json.dumps([{"compressor_id": "COMP-001", "degradation_start_day": 0.1, "failure_day": 1.4}])
FLEET = ["-p", "n_compressors=2", "-p", "n_stations=1", "-p", "days=1", "-p", "seed=42"]
FLEET += ["-p", f"failure_schedule={SCHEDULE}"]
DAY1, DAY2 = "2026-11-02", "2026-11-03"
RUN_TIMEOUT = 1800
# Lakehouse tables that log runs: one row set per run, so their row counts differ after killed runs.
RUN_LOG_TABLES = {"ops_run_steps", "silver_rule_counts", "gold_data_quality"}
# The landing ledger names each folder's own files (paths, and bytes that Spark's writer orders
# differently each time): compared by what became of the files, not by which files they were.
LEDGER_OUTCOMES = {"bronze_landed_files": ["source", "file_format", "outcome", "rows"]}
# Lineage and processing-time columns: differ between any two runs.
PROCESSING = {"run_id", "updated_at", "created_at", "scored_at", "measured_at", "acknowledged_at", "published_at"}
# Serving tables the pipeline mirrors from the lakehouse (compared), and the publish's own bookkeeping.
SERVING_DATA = ("stations", "compressors", "sensor_thresholds", "hourly_readings", "latest_readings", "alerts")
PUBLISHED_TOGETHER = ("hourly_readings", "latest_readings", "alerts", "publish_watermarks")
LOCK_CLEARED = "was interrupted; its lock is cleared"


def _cli(home: Path, run_date: str) -> list[str]:
    return [sys.executable, "-m", "altaviz.cli", "run", "--home", str(home), *FLEET, "-p", f"run_date={run_date}"]


ENV = {**os.environ, "COLUMNS": "160", "PYTHONUNBUFFERED": "1"}


def _run(home: Path, run_date: str) -> str:
    proc = subprocess.run(_cli(home, run_date), cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=ENV)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def _url(home: Path) -> str:
    return json.loads((home / "state" / "database.json").read_text())["url"]


def _sql(home: Path, query: str, params=()) -> list[tuple]:
    with psycopg.connect(_url(home)) as conn:
        return conn.execute(query, params).fetchall()


def _acknowledge_first_alert(home: Path) -> str:
    rows = _sql(
        home,
        "UPDATE alerts SET status = 'acknowledged', acknowledged_by = 'crash-test', acknowledged_at = now() "
        "WHERE alert_id = (SELECT alert_id FROM alerts ORDER BY opened_at, alert_id LIMIT 1) RETURNING alert_id",
    )
    assert rows, "day 1 published no alert to acknowledge"
    return rows[0][0]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[sorted(frame.columns)]
    if frame.empty:
        return frame.reset_index(drop=True)
    order = frame.apply(lambda row: "\x1f".join(map(str, row)), axis=1).sort_values().index
    return frame.loc[order].reset_index(drop=True)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return _sorted(frame.drop(columns=[c for c in frame.columns if c.startswith("_") or c in PROCESSING]))


def _lakehouse(home: Path, table: str) -> pd.DataFrame:
    return DeltaTable(str(home / "lakehouse" / "Tables" / table)).to_pandas()


def _lakehouse_tables(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "lakehouse" / "Tables").iterdir() if (p / "_delta_log").is_dir())


def _serving(home: Path, table: str) -> pd.DataFrame:
    with psycopg.connect(_url(home)) as conn:
        cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 (names from this file)
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def _serving_snapshot(home: Path) -> dict[str, pd.DataFrame]:
    """The data tables a dashboard reads, as one consistent snapshot (one repeatable-read transaction)."""
    with psycopg.connect(_url(home), autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        out = {}
        for table in (*SERVING_DATA, "publish_watermarks"):
            cur = conn.execute(f"SELECT * FROM {table}")  # noqa: S608
            out[table] = _comparable(pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description]))
        conn.execute("COMMIT")
    return out


# --- killing a run -------------------------------------------------------------------------------


@dataclass
class KillPoint:
    notebook: str
    trigger: str  # a substring of a line the CLI prints; "db-transaction": the publish transaction is open
    delay: float = 0.0
    fallback: str | None = None  # a later line that triggers the kill if the first never appears

    def __str__(self) -> str:
        return f"{self.notebook}: {self.trigger!r} + {self.delay:.0f} s"


@dataclass
class KilledRun:
    point: KillPoint
    stdout: list[str] = field(default_factory=list)
    fired_by: str = ""
    completed: bool = False  # the run ended before the kill point was reached
    run_id: str = ""


def main_path_notebooks() -> list[str]:
    """The notebooks a successful run executes, in order (not the on-failure path)."""
    definition = load_pipeline(PIPELINE)
    ordered = activity_order(definition["activities"])
    return [
        a["name"]
        for a in ordered
        if a["type"] == "TridentNotebook"
        and all(set(d.get("dependencyConditions", ["Succeeded"])) == {"Succeeded"} for d in a.get("dependsOn", []))
    ]


def kill_points() -> list[KillPoint]:
    """One kill per notebook, alternating between just after its first progress line (a phase's
    write done or under way, the rest of the notebook not) and a few seconds after it starts (inside
    its reads and first writes); inside the publish notebook, while its transaction is open."""
    points = []
    for i, name in enumerate(main_path_notebooks()):
        if "publish" in name:
            points.append(KillPoint(name, "db-transaction", fallback=f"✔ {name}"))
        elif i % 2 == 0:
            points.append(KillPoint(name, f"{name} · ", fallback=f"✔ {name}"))
        else:
            points.append(KillPoint(name, f"▶ {name}", delay=6.0, fallback=f"✔ {name}"))
    return points


def _kill_tree(pid: int) -> None:
    """SIGKILL the CLI's process group and every process it started (the Jupyter kernel runs in a
    session of its own, the JVM under it); the embedded PostgreSQL is a daemon and stays up."""
    try:
        victims = [p for p in psutil.Process(pid).children(recursive=True) if "postgres" not in p.name()]
    except psutil.NoSuchProcess:
        victims = []
    for sig_target in [pid, *(v.pid for v in victims)]:
        try:
            os.killpg(os.getpgid(sig_target), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(sig_target, signal.SIGKILL)
        except ProcessLookupError:
            pass
    psutil.wait_procs(victims, timeout=30)


def _publish_transaction_open(home: Path) -> bool:
    """Another session holds uncommitted writes to hourly_readings: the publish transaction is open
    and past its first tables (an INSERT keeps its RowExclusiveLock until the transaction ends)."""
    try:
        rows = _sql(
            home,
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'hourly_readings' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()",
        )
    except psycopg.Error:
        return False
    return rows[0][0] > 0


def run_and_kill(home: Path, run_date: str, point: KillPoint) -> KilledRun:
    killed = KilledRun(point)
    proc = subprocess.Popen(
        _cli(home, run_date),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + RUN_TIMEOUT
    fire_at: float | None = None
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                line = ""
            if line is None:
                killed.completed = True
                break
            if line:
                killed.stdout.append(line)
                if line.startswith("run local-") and "→" in line and not killed.run_id:
                    killed.run_id = line.split()[1]
            if fire_at is None:
                if point.trigger == "db-transaction":
                    if any(s.startswith(f"▶ {point.notebook}") for s in killed.stdout[-50:]) and (
                        _publish_transaction_open(home)
                    ):
                        fire_at, killed.fired_by = time.monotonic(), "publish transaction open"
                elif line and point.trigger in line:
                    fire_at, killed.fired_by = time.monotonic() + point.delay, line
                if fire_at is None and line and point.fallback and point.fallback in line:
                    fire_at, killed.fired_by = time.monotonic(), f"fallback: {line}"
            if fire_at is not None and time.monotonic() >= fire_at:
                _kill_tree(proc.pid)
                break
        else:
            _kill_tree(proc.pid)
            pytest.fail(f"run killed at {point} timed out")
    finally:
        proc.wait(timeout=60)
    while not killed.completed and (rest := lines.get(timeout=30)) is not None:  # up to the pipe's end
        killed.stdout.append(rest)
    return killed


# --- the runs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    reference, crashed = tmp_path_factory.mktemp("reference"), tmp_path_factory.mktemp("crashed")
    outcome: dict = {}

    def clean() -> None:  # the reference runs beside the crashed folder's runs
        try:
            _run(reference, DAY1)
            outcome["ack"] = _acknowledge_first_alert(reference)
            _run(reference, DAY2)
        except BaseException as err:  # noqa: BLE001 (re-raised in the test thread)
            outcome["error"] = err

    worker = threading.Thread(target=clean)
    worker.start()
    try:
        _run(crashed, DAY1)
        ack = _acknowledge_first_alert(crashed)
        before = _serving_snapshot(crashed)  # the previous publish, as the dashboard sees it
        kills, after_kill = [], {}
        for point in kill_points():
            killed = run_and_kill(crashed, DAY2, point)
            kills.append(killed)
            with open(crashed / "kills.log", "a", encoding="utf-8") as log:  # to follow a slow test
                print(f"{killed.run_id} killed at {point} by {killed.fired_by!r}", file=log)
            if point.trigger == "db-transaction":
                after_kill = _serving_snapshot(crashed)
        final = _run(crashed, DAY2)
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        yield {
            "reference": reference,
            "crashed": crashed,
            "ack": ack,
            "reference_ack": outcome["ack"],
            "before_publish": before,
            "after_publish_kill": after_kill,
            "kills": kills,
            "final": final,
        }
    finally:
        worker.join()
        from altaviz.publish.embedded import stop_embedded_postgres

        for home in (reference, crashed):
            stop_embedded_postgres(home)


def test_every_notebook_on_the_main_path_was_killed_inside(homes):
    kills = homes["kills"]
    assert [k.point.notebook for k in kills] == main_path_notebooks()
    for killed in kills:
        assert not killed.completed, f"the run meant to be killed at {killed.point} ended by itself"
        assert any(line.startswith(f"▶ {killed.point.notebook}") for line in killed.stdout), killed.point
        # Killed before its notebook finished (the fallback only fires when the notebook just ended).
        assert not killed.fired_by.startswith("fallback"), (killed.point, killed.stdout[-5:])


def test_each_run_after_a_kill_reports_the_cleared_lock(homes):
    kills = homes["kills"]
    followers = [k.stdout for k in kills[1:]] + [homes["final"].splitlines()]
    for killed, after in zip(kills, followers, strict=True):
        cleared = [line for line in after if LOCK_CLEARED in line]
        assert cleared and killed.run_id in cleared[0], (killed.point, after[:5])
    assert not (homes["crashed"] / "state" / "run.lock").read_text().strip()  # the last run released it


def test_lakehouse_data_tables_equal_the_clean_runs(homes):
    reference, crashed = homes["reference"], homes["crashed"]
    assert _lakehouse_tables(crashed) == _lakehouse_tables(reference)
    for table in _lakehouse_tables(reference):
        if table in RUN_LOG_TABLES:
            continue
        if table in LEDGER_OUTCOMES:
            columns = LEDGER_OUTCOMES[table]
            expected, got = (_sorted(_lakehouse(home, table)[columns]) for home in (reference, crashed))
            pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=table)
            continue
        expected, got = (_comparable(_lakehouse(home, table)) for home in (reference, crashed))
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=table)


def test_no_lakehouse_table_has_a_duplicate_key(homes):
    for table in _lakehouse_tables(homes["crashed"]):
        frame = _lakehouse(homes["crashed"], table)
        assert not frame.duplicated(subset=list(TABLES[table].key)).any(), table


def test_the_run_logs_hold_each_run_once_and_the_last_run_whole(homes):
    crashed = homes["crashed"]
    steps = _lakehouse(crashed, "ops_run_steps")
    last = steps[steps.run_id == steps.sort_values("started_at").run_id.iloc[-1]]
    assert set(last.step) >= set(main_path_notebooks()) and set(last.status) == {"succeeded"}
    killed_ids = {k.run_id for k in homes["kills"]}
    # A killed run is recorded with the steps it finished (at most up to the one it died in), or not
    # at all; never as a whole success.
    notebooks = main_path_notebooks()
    for killed in homes["kills"]:
        recorded = set(steps[steps.run_id == killed.run_id].step)
        assert recorded <= set(notebooks[: notebooks.index(killed.point.notebook) + 1]), (killed.point, recorded)
    assert killed_ids.isdisjoint(set(last.run_id))
    runs = dict(_sql(crashed, "SELECT run_id, status FROM pipeline_runs"))
    assert runs[last.run_id.iloc[0]] == "succeeded"


def test_serving_tables_equal_the_clean_runs(homes):
    reference, crashed = homes["reference"], homes["crashed"]
    for table in SERVING_DATA:
        expected, got = (_comparable(_serving(home, table)) for home in (reference, crashed))
        assert len(expected) > 0, table
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=table)
    for table in ("hourly_readings", "alerts", "pipeline_runs", "pipeline_run_steps", "data_quality_metrics"):
        key = ", ".join(next(t.key for n, t in _serving_tables().items() if n == table))
        dupes = _sql(crashed, f"SELECT {key}, count(*) FROM {table} GROUP BY {key} HAVING count(*) > 1")  # noqa: S608
        assert not dupes, table


def _serving_tables():
    from altaviz.publish import SERVING_TABLES

    return SERVING_TABLES


def test_the_acknowledgement_made_before_the_crashes_survives(homes):
    assert homes["ack"] == homes["reference_ack"]
    assert _sql(
        homes["crashed"], "SELECT status, acknowledged_by FROM alerts WHERE alert_id = %s", (homes["ack"],)
    ) == [("acknowledged", "crash-test")]


def test_a_kill_inside_the_publish_leaves_the_previous_publish_whole(homes):
    publish_kill = next(k for k in homes["kills"] if k.point.trigger == "db-transaction")
    assert publish_kill.fired_by == "publish transaction open", publish_kill.fired_by
    after, before = homes["after_publish_kill"], homes["before_publish"]
    for table in PUBLISHED_TOGETHER:
        pd.testing.assert_frame_equal(after[table], before[table], check_exact=True, obj=table)
    # ...and the completed publish did change them: the kill was not a no-op.
    final = _serving_snapshot(homes["crashed"])
    assert not final["hourly_readings"].equals(before["hourly_readings"])
