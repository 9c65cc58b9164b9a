"""Daily incremental runs are the same as one long run.

Two state folders get the same simulated readings of a 5-unit fleet over three days: one in three
daily runs (`-p days=1`, consecutive run dates), one in a single three-day run. Their silver, gold
and alert tables and their serving tables must be identical, run ids and processing times aside,
including an alert episode that is open across a day boundary.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from deltalake import DeltaTable

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
# Failures counted from the fleet epoch (the start of day 1): COMP-004's bearing warns late on day 2
# and is still alarming on day 3, when it trips; COMP-002's valve degrades from day 1 and trips on
# day 3 (a work order opens). The configured sensor faults (COMP-005's stuck temperature on day 2)
# and the units drawing from the rates (COMP-003) come along.
SCHEDULE = json.dumps(
    [
        {"compressor_id": "COMP-004", "degradation_start_day": 0.2, "failure_day": 2.6},
        {"compressor_id": "COMP-002", "degradation_start_day": 0.5, "failure_day": 2.2, "failure_mode": "valve"},
    ]
)
FLEET = ["-p", "n_compressors=5", "-p", "n_stations=2", "-p", f"failure_schedule={SCHEDULE}"]
LINEAGE = ["_record_id", "_source_file", "_ingest_run_id", "_silver_run_id", "_ingested_at", "scored_at"]
SERVING = {
    "stations": "station_id",
    "compressors": "compressor_id",
    "hourly_readings": "compressor_id, hour_start",
    "predictions": "compressor_id, hour_start",
    "alerts": "alert_id",
}


def _run(home: Path, *params: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "altaviz.cli", "run", "--home", str(home), *FLEET, *params],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    daily, whole = tmp_path_factory.mktemp("daily"), tmp_path_factory.mktemp("whole")
    for day in ("2026-11-02", "2026-11-03", "2026-11-04"):
        _run(daily, "-p", f"run_date={day}", "-p", "days=1")
    _run(whole, "-p", "run_date=2026-11-04", "-p", "days=3")
    yield daily, whole
    from altaviz.publish.embedded import stop_embedded_postgres

    for home in (daily, whole):
        stop_embedded_postgres(home)


def _lakehouse(home: Path, table: str) -> pd.DataFrame:
    frame = DeltaTable(str(home / "lakehouse" / "Tables" / table)).to_pandas()
    frame = frame.drop(columns=[c for c in LINEAGE if c in frame.columns])
    return frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)


def _serving(home: Path, table: str, order: str) -> pd.DataFrame:
    url = json.loads((home / "state" / "database.json").read_text())["url"]
    with psycopg.connect(url) as conn:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608 (names from this file)
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    return frame.drop(columns=[c for c in ("updated_at", "created_at", "scored_at") if c in frame.columns])


@pytest.mark.parametrize(
    "table",
    [
        "silver_sensor_readings",
        "silver_quarantine_readings",
        "silver_pending_readings",
        "gold_sensor_features",
        "gold_hourly_readings",
        "gold_alert_episodes",
        "gold_predictions",
        "silver_compressors",
        "silver_maintenance_events",
    ],
)
def test_daily_runs_and_one_long_run_give_identical_lakehouse_tables(homes, table):
    daily, whole = (_lakehouse(home, table) for home in homes)
    assert len(whole) > 0 or table in ("silver_quarantine_readings",)
    pd.testing.assert_frame_equal(daily, whole, check_exact=True)


@pytest.mark.parametrize("table", sorted(SERVING))
def test_daily_runs_and_one_long_run_give_identical_serving_tables(homes, table):
    daily, whole = (_serving(home, table, SERVING[table]) for home in homes)
    assert len(whole) > 0
    pd.testing.assert_frame_equal(daily, whole, check_exact=True)


def test_the_comparison_covers_an_episode_open_across_a_day_boundary(homes):
    daily, whole = homes
    placed = ("silver_sensor_readings", "silver_pending_readings", "silver_quarantine_readings")
    assert sum(len(_lakehouse(whole, t)) for t in placed) == len(_lakehouse(whole, "bronze_sensor_readings"))
    quarantine = _lakehouse(daily, "silver_quarantine_readings")
    stuck = quarantine[quarantine.compressor_id == "COMP-005"].failed_rules.map(list)
    assert sum(r == ["stuck_sensor"] for r in stuck) == 31  # COMP-005's 6 stuck hours, from the 6th reading on
    episodes = _lakehouse(daily, "gold_alert_episodes")
    boundaries = [pd.Timestamp(d, tz="UTC") for d in ("2026-11-02", "2026-11-03")]
    spanning = episodes[
        [
            any(o < b <= last for b in boundaries)
            for o, last in zip(episodes.opened_at, episodes.last_reading_at, strict=True)
        ]
    ]
    assert set(spanning.compressor_id) >= {"COMP-004"}
    # Each daily run published: the serving alerts were updated across runs, never duplicated.
    assert len(_serving(daily, "alerts", "alert_id")) == len(episodes)
