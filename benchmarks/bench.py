"""`make bench`: the daily pipeline at fleet scale, timed per notebook, with a DuckDB reference for gold.

    .venv/bin/python benchmarks/bench.py                      # every scenario, in order
    .venv/bin/python benchmarks/bench.py default month day31  # some of them

Scenarios (each in its own state folder under a temporary directory, embedded PostgreSQL included):

- ``default``      the default fleet, as ``make run`` runs it (10 units × 7 days at 10 min);
- ``month``        1,000 units × 30 days at 10 min (4.32 M readings), simulate → publish;
- ``day31``        the next day on top of that month (needs ``month`` in the same invocation);
- ``day31-empty``  the same day, same fleet epoch, on an empty lakehouse (the baseline for ``day31``);
- ``10k-1min``     10,000 units × 1 day at 1 min (14.4 M readings).

For each: wall seconds per notebook, rows written and rows/s, the peak resident memory of the whole
process tree (runner, Jupyter kernel, Spark JVM, PostgreSQL) while the notebook ran; then the
rolling features of 04_gold recomputed by DuckDB from the same silver rows (read with delta-rs),
compared with gold_sensor_features (max |difference| must be ≤ 1e-9) and timed against 04_gold.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import psutil
import yaml
from deltalake import DeltaTable

from altaviz.config import SENSOR_COLUMNS
from altaviz.publish.embedded import stop_embedded_postgres
from altaviz.runner import run_pipeline

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json"
EPOCH = "2026-01-01T00:00:00Z"
TOLERANCE = 1e-9

# name → (pipeline parameters, reading interval in minutes, state folder it continues or None)
SCENARIOS: dict[str, tuple[dict[str, str], int, str | None]] = {
    "default": ({}, 10, None),
    "month": ({"n_compressors": "1000", "days": "30", "run_date": "2026-01-31", "fleet_epoch": EPOCH}, 10, None),
    "day31": ({"n_compressors": "1000", "days": "1", "run_date": "2026-02-01", "fleet_epoch": EPOCH}, 10, "month"),
    "day31-empty": ({"n_compressors": "1000", "days": "1", "run_date": "2026-02-01", "fleet_epoch": EPOCH}, 10, None),
    "10k-1min": ({"n_compressors": "10000", "days": "1", "run_date": "2026-01-02", "fleet_epoch": EPOCH}, 1, None),
}

# The reference: gold's rolling features as DuckDB window functions. A mean's window is the
# readings less than its length old, (now - w, now]; the 1-hour delta is now minus the oldest
# reading at most an hour old, [now - 1 h, now]. Ranges are over unix microseconds.
DUCKDB_FEATURES = """
SELECT compressor_id, "timestamp",
  avg(vibration_mms)          OVER (w RANGE BETWEEN 3599999999 PRECEDING AND CURRENT ROW) AS vibration_1hr_mean,
  avg(discharge_temp_f)       OVER (w RANGE BETWEEN 3599999999 PRECEDING AND CURRENT ROW) AS temp_1hr_mean,
  avg(discharge_temp_f)       OVER (w RANGE BETWEEN 14399999999 PRECEDING AND CURRENT ROW) AS temp_4hr_mean,
  avg(discharge_pressure_psi) OVER (w RANGE BETWEEN 3599999999 PRECEDING AND CURRENT ROW)
    AS discharge_pressure_1hr_mean,
  avg(suction_pressure_psi)   OVER (w RANGE BETWEEN 3599999999 PRECEDING AND CURRENT ROW)
    AS suction_pressure_1hr_mean,
  avg(discharge_pressure_psi) OVER (w RANGE BETWEEN 86399999999 PRECEDING AND CURRENT ROW) AS pressure_24hr_mean,
  discharge_temp_f - first_value(discharge_temp_f) OVER (w RANGE BETWEEN 3600000000 PRECEDING AND CURRENT ROW)
    AS temp_1hr_delta,
  discharge_pressure_psi - suction_pressure_psi AS pressure_differential
FROM silver
WINDOW w AS (PARTITION BY compressor_id ORDER BY epoch_us("timestamp"))
"""
FEATURES = [
    "vibration_1hr_mean",
    "temp_1hr_mean",
    "temp_4hr_mean",
    "discharge_pressure_1hr_mean",
    "suction_pressure_1hr_mean",
    "pressure_24hr_mean",
    "temp_1hr_delta",
    "pressure_differential",
]


class PeakMemory:
    """Samples the resident memory of this process and all its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.root = psutil.Process()
        self.peak = self.activity_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree_rss(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            rss = self._tree_rss()
            self.peak, self.activity_peak = max(self.peak, rss), max(self.activity_peak, rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Step:
    name: str
    seconds: float
    rows_in: int
    rows_out: int
    peak_gb: float


@dataclass
class Outcome:
    scenario: str
    wall: float
    succeeded: bool
    steps: list[Step] = field(default_factory=list)
    reference: dict[str, Any] = field(default_factory=dict)


def bench_config(interval_minutes: int, folder: Path) -> Path:
    """The packaged configuration with the simulated and expected reading interval set."""
    from importlib import resources

    config = yaml.safe_load(resources.files("altaviz").joinpath("conf/altaviz.yaml").read_text())
    config["simulation"]["interval_minutes"] = interval_minutes
    config["windows"]["reading_interval_minutes"] = interval_minutes
    path = folder / f"altaviz-{interval_minutes}min.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_scenario(name: str, home: Path, config: Path) -> Outcome:
    overrides = SCENARIOS[name][0]
    os.environ["ALTAVIZ_CONFIG"] = str(config)
    peaks: dict[str, int] = {}
    with PeakMemory() as memory:

        def listen(event: str, payload: dict[str, Any]) -> None:
            if event == "activity_started":
                memory.activity_peak = 0
            elif event in ("activity_succeeded", "activity_failed"):
                peaks[payload["name"]] = memory.activity_peak

        started = time.perf_counter()
        result = run_pipeline(PIPELINE, REPO / "notebooks", overrides=overrides, home=home, listener=listen)
        wall = time.perf_counter() - started
    outcome = Outcome(name, wall, result.succeeded)
    steps = DeltaTable(str(home / "lakehouse/Tables/ops_run_steps")).to_pandas()
    steps = steps[steps["run_id"] == result.run_id].set_index("step")
    for activity in result.activities:
        if activity.status == "skipped":  # the on-failure path of a run that succeeded
            continue
        row = steps.loc[activity.name] if activity.name in steps.index else {"rows_in": 0, "rows_out": 0}
        peak = peaks.get(activity.name, 0) / 2**30
        outcome.steps.append(Step(activity.name, activity.seconds, int(row["rows_in"]), int(row["rows_out"]), peak))
    if result.succeeded:
        outcome.reference = duckdb_reference(home, result.run_id)
    else:
        print(f"  {name} FAILED: see {result.run_dir}/run.log")
    return outcome


def duckdb_reference(home: Path, run_id: str) -> dict[str, Any]:
    """DuckDB computes gold's rolling features from the silver rows this run's 04_gold read (its new
    readings and the 24 hours before them), end to end: read Delta, compute, write Parquet. Then the
    values are compared with what 04_gold wrote."""
    tables = home / "lakehouse/Tables"
    started = time.perf_counter()
    con = duckdb.connect()
    # A dataset, not a table: DuckDB pushes the filters below into the Parquet scan.
    con.register("silver_all", DeltaTable(str(tables / "silver_sensor_readings")).to_pyarrow_dataset())
    first_new = con.execute("SELECT min(timestamp) FROM silver_all WHERE _silver_run_id = ?", [run_id]).fetchall()[0][0]
    con.sql(
        f"""CREATE TABLE silver AS SELECT compressor_id, timestamp, {", ".join(SENSOR_COLUMNS)} FROM silver_all
            WHERE timestamp >= ?::TIMESTAMPTZ - INTERVAL 24 HOUR""",
        params=[first_new],
    )
    read_s = time.perf_counter() - started
    computed = time.perf_counter()
    con.sql(f"CREATE TABLE reference AS {DUCKDB_FEATURES}")
    compute_s = time.perf_counter() - computed
    out = home / "duckdb_features.parquet"
    con.sql(f"COPY reference TO '{out}' (FORMAT parquet)")
    total_s = time.perf_counter() - started
    n_input = con.execute("SELECT count(*) FROM silver").fetchall()[0][0]

    gold = DeltaTable(str(tables / "gold_sensor_features")).to_pyarrow_table(
        columns=["compressor_id", "timestamp", *FEATURES]
    )
    con.register("gold", gold)
    diffs = ", ".join(f"max(abs(g.{f} - r.{f}))" for f in FEATURES)
    null_mismatches = " + ".join(f"count(*) FILTER (WHERE (g.{f} IS NULL) <> (r.{f} IS NULL))" for f in FEATURES)
    compared = con.execute(
        f"""SELECT count(*), count(g.compressor_id), {null_mismatches}, {diffs}
            FROM reference r LEFT JOIN gold g USING (compressor_id, timestamp)
            WHERE r.timestamp >= ?::TIMESTAMPTZ""",
        [first_new],
    ).fetchall()[0]
    n, in_gold, nulls, *max_diffs = compared
    gold_rows = con.execute("SELECT count(*) FROM gold WHERE timestamp >= ?::TIMESTAMPTZ", [first_new]).fetchall()[0][0]
    worst = max((d for d in max_diffs if d is not None), default=float("nan"))
    return {
        "input_rows": n_input,
        "compared_rows": n,
        "missing_in_gold": n - in_gold,
        "extra_in_gold": gold_rows - in_gold,
        "null_mismatches": nulls,
        "max_abs_diff": worst,
        "equal": in_gold == n == gold_rows and nulls == 0 and worst <= TOLERANCE,
        "read_s": read_s,
        "compute_s": compute_s,
        "total_s": total_s,
    }


def print_outcome(outcome: Outcome) -> None:
    print(f"\n### {outcome.scenario}  ({'succeeded' if outcome.succeeded else 'FAILED'})\n")
    # rows/s: of the larger side (readings judged by silver, readings recomputed by gold, rows landed…)
    print("| notebook | wall s | rows in | rows out | rows/s | peak memory GB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for s in outcome.steps:
        rows = max(s.rows_in, s.rows_out)
        rate = f"{rows / s.seconds:,.0f}" if rows and s.seconds else "—"
        print(f"| {s.name} | {s.seconds:.1f} | {s.rows_in:,} | {s.rows_out:,} | {rate} | {s.peak_gb:.1f} |")
    peak = max((s.peak_gb for s in outcome.steps), default=0.0)
    print(f"| **total** | **{outcome.wall:.1f}** | | | | **{peak:.1f}** |")
    ref = outcome.reference
    if ref:
        gold_s = next((s.seconds for s in outcome.steps if s.name == "04_gold"), float("nan"))
        print(
            f"\n04_gold vs DuckDB {duckdb.__version__} on the same {ref['input_rows']:,} silver rows: "
            f"DuckDB {ref['total_s']:.1f} s end to end "
            f"(read {ref['read_s']:.1f} s, features {ref['compute_s']:.1f} s), "
            f"04_gold {gold_s:.1f} s, ratio {gold_s / ref['total_s']:.1f}×; "
            f"{ref['compared_rows']:,} rows compared, {ref['missing_in_gold']} missing in gold, "
            f"{ref['extra_in_gold']} extra in gold, {ref['null_mismatches']} null mismatches, "
            f"max |difference| {ref['max_abs_diff']:.2e} → {'equal' if ref['equal'] else 'NOT EQUAL'} (≤ {TOLERANCE:g})"
        )


def print_machine() -> None:
    memory = psutil.virtual_memory().total / 2**30
    print(
        f"machine: {platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, {memory:.0f} GB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the state folders")
    args = parser.parse_args()
    args.scenarios = args.scenarios or list(SCENARIOS)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    work = Path(tempfile.mkdtemp(prefix="altaviz-bench-"))
    print_machine()
    homes: dict[str, Path] = {}
    outcomes = []
    try:
        for name in args.scenarios:
            _, interval, continues = SCENARIOS[name]
            if continues and continues not in homes:
                parser.error(f"{name} continues {continues}: run {continues} first in the same invocation")
            home = homes[continues] if continues else work / name
            homes[name] = home
            print(f"running {name} …", flush=True)
            outcome = run_scenario(name, home, bench_config(interval, work))
            outcomes.append(outcome)
            print_outcome(outcome)
            if not any(SCENARIOS[later][2] == name for later in args.scenarios):
                stop_embedded_postgres(home)  # unless a later scenario continues this one
        by_name = {o.scenario: o for o in outcomes}
        if "day31" in by_name and "day31-empty" in by_name:
            ratio = by_name["day31"].wall / by_name["day31-empty"].wall
            print(f"\nday 31 after the month / on an empty lakehouse: {ratio:.2f}×")
    finally:
        for home in set(homes.values()):
            stop_embedded_postgres(home)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
