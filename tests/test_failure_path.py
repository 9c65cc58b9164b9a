"""A failed pipeline run is recorded as failed: `altaviz run` on the committed notebooks, with
02_bronze failing on a bad parameter, runs the on-failure path (09_record_failure, then the Fail
activity) and the serving database (embedded PostgreSQL) shows the run and its failed step.

Small on purpose: one compressor for one day, and 02_bronze fails before any Spark work.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from deltalake import DeltaTable

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json"


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("failure-home")
    # The committed pipeline, with one deliberate change: 02_bronze gets a parameter it refuses.
    definition = json.loads(PIPELINE.read_text(encoding="utf-8"))
    bronze = next(a for a in definition["properties"]["activities"] if a["name"] == "02_bronze")
    bronze["typeProperties"]["parameters"]["continuous_seconds"] = {"value": -1, "type": "int"}
    pipeline = home / "pipeline-content.json"
    pipeline.write_text(json.dumps(definition), encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "altaviz.cli",
            "run",
            "--pipeline",
            str(pipeline),
            "--notebooks",
            str(REPO / "notebooks"),
            "--home",
            str(home),
            *("-p", "run_date=2026-11-20", "-p", "n_compressors=1", "-p", "n_stations=1", "-p", "days=1"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "COLUMNS": "200"},
    )
    yield home, proc
    from altaviz.publish.embedded import stop_embedded_postgres

    stop_embedded_postgres(home)


def _sql(home: Path, query: str):
    url = json.loads((home / "state" / "database.json").read_text())["url"]
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_the_run_fails_and_the_cli_exits_non_zero(failed_run):
    _, proc = failed_run
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = json.loads(next((failed_run[0] / "runs").glob("*/summary.json")).read_text())
    states = {a["name"]: a["status"] for a in summary["activities"]}
    assert states == {
        "01_simulate": "succeeded",
        "02_bronze": "failed",
        "03_silver": "skipped",
        "04_gold": "skipped",
        "07_score": "skipped",
        "05_publish": "skipped",
        "09_record_failure": "succeeded",
        "run_failed": "failed",
    }
    assert (
        "continuous_seconds must be 0" in next(a for a in summary["activities"] if a["name"] == "run_failed")["error"]
    )


def test_the_failed_step_and_its_error_are_in_the_run_log(failed_run):
    home, _ = failed_run
    steps = DeltaTable(str(home / "lakehouse/Tables/ops_run_steps")).to_pandas().set_index("step")
    assert sorted(steps.index) == ["01_simulate", "02_bronze"]
    assert steps.loc["01_simulate", "status"] == "succeeded"
    assert steps.loc["02_bronze", "status"] == "failed"
    assert "ValueError: continuous_seconds must be 0" in json.loads(steps.loc["02_bronze", "detail"])["error"]
    assert steps.loc["02_bronze", "started_at"] >= steps.loc["01_simulate", "finished_at"]


def test_the_serving_database_shows_the_last_run_failed(failed_run):
    home, _ = failed_run
    (run,) = _sql(home, "SELECT run_id, status FROM pipeline_runs")
    assert run[1] == "failed"
    steps = dict(_sql(home, "SELECT step, status FROM pipeline_run_steps"))
    assert steps == {"01_simulate": "succeeded", "02_bronze": "failed"}
    (detail,) = _sql(home, "SELECT detail FROM pipeline_run_steps WHERE step = '02_bronze'")[0]
    assert "continuous_seconds must be 0" in json.loads(detail)["error"]
