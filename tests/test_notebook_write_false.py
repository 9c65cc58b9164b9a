"""A notebook run with ``write = False`` runs every transform and writes nothing.

The committed notebooks, run by the local runner in one pipeline: 01_simulate with write=False,
then 01_simulate lands one compressor-day, 02_bronze runs with write=False and then for real; then 03_silver runs with
write=False, 03_silver for real, and 04_gold and 05_publish with write=False. Each dry run must see
exactly what the real one after it handles (nothing landed, no stream checkpoint moved) and leave
no row anywhere; the dry gold and publish runs must compute features and create no gold table, no
checkpoint and no serving database.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from deltalake import DeltaTable
from nbclient import NotebookClient
from typer.testing import CliRunner

from altaviz import runner, runtime
from altaviz.cli import app

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
PIPELINE = REPO / "pipelines/altaviz_pipeline.DataPipeline/pipeline-content.json"
WRITE_FALSE = {"value": False, "type": "bool"}


def _dry(activity: dict, name: str, after: str) -> dict:
    dry = copy.deepcopy(activity)
    dry["name"] = name
    dry["dependsOn"] = [{"activity": after, "dependencyConditions": ["Succeeded"]}]
    dry["typeProperties"]["parameters"]["write"] = WRITE_FALSE
    return dry


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("write-false-home")
    definition = json.loads(PIPELINE.read_text(encoding="utf-8"))
    by_name = {a["name"]: a for a in definition["properties"]["activities"]}
    dry_simulate = copy.deepcopy(by_name["01_simulate"])
    dry_simulate["name"] = "01_simulate_dry"
    dry_simulate["typeProperties"]["parameters"]["write"] = WRITE_FALSE
    simulate = copy.deepcopy(by_name["01_simulate"])
    simulate["dependsOn"] = [{"activity": "01_simulate_dry", "dependencyConditions": ["Succeeded"]}]
    bronze = copy.deepcopy(by_name["02_bronze"])
    bronze["dependsOn"] = [{"activity": "02_bronze_dry", "dependencyConditions": ["Succeeded"]}]
    silver = copy.deepcopy(by_name["03_silver"])
    silver["dependsOn"] = [{"activity": "03_silver_dry", "dependencyConditions": ["Succeeded"]}]
    definition["properties"]["activities"] = [
        dry_simulate,
        simulate,
        _dry(by_name["02_bronze"], "02_bronze_dry", "01_simulate"),
        bronze,
        _dry(by_name["03_silver"], "03_silver_dry", "02_bronze"),
        silver,
        _dry(by_name["04_gold"], "04_gold_dry", "03_silver"),
        _dry(by_name["05_publish"], "05_publish_dry", "04_gold_dry"),
    ]
    pipeline = home / "pipeline-content.json"
    pipeline.write_text(json.dumps(definition), encoding="utf-8")
    result = runner.run_pipeline(
        pipeline,
        REPO / "notebooks",
        overrides={"run_date": "2026-11-20", "n_compressors": "1", "n_stations": "1", "days": "1"},
        home=home,
        run_id="write-false-1",
    )
    return home, {a.name: a for a in result.activities}


def _rows(home: Path, table: str):
    return DeltaTable(str(home / "lakehouse" / "Tables" / table)).to_pandas()


def test_every_activity_succeeds(run):
    _, activities = run
    failed = {n: a.error for n, a in activities.items() if a.status != "succeeded"}
    assert not failed


def test_a_dry_simulation_simulates_the_batch_and_lands_nothing(run):
    _, activities = run
    dry, real = activities["01_simulate_dry"].exit_value, activities["01_simulate"].exit_value
    assert dry["write"] is False
    assert "skipped" not in real, "the dry run landed the batch"
    assert dry["batch_id"] == real["batch_id"] and dry["rows"] == real["rows"] > 0


def test_a_dry_bronze_run_reads_every_new_file_and_lands_none(run):
    home, activities = run
    dry, real = activities["02_bronze_dry"].exit_value, activities["02_bronze"].exit_value
    assert dry["write"] is False and "write" not in real
    assert dry["bronze_sensor_readings"] == real["bronze_sensor_readings"] > 0
    # Only the real run's rows and ledger entries exist: the dry run's would double them.
    assert len(_rows(home, "bronze_sensor_readings")) == real["bronze_sensor_readings"]
    ledger = _rows(home, "bronze_landed_files")
    assert not ledger.duplicated(subset=["source_file"]).any() and set(ledger["_ingest_run_id"]) == {"write-false-1"}


def test_a_dry_silver_run_judges_what_the_real_one_then_judges_and_writes_nothing(run):
    home, activities = run
    dry, real = activities["03_silver_dry"].exit_value, activities["03_silver"].exit_value
    assert dry["write"] is False and "write" not in real
    assert real["validated"] > 0
    # The checkpoint did not move: the real run judged the same rows, with the same verdicts.
    for key in ("validated", "valid", "quarantined", "pending", "rules"):
        assert dry[key] == real[key], key
    # Only the real run's rows exist (the dry run's appends would double them).
    assert len(_rows(home, "silver_sensor_readings")) == real["valid"]
    steps = _rows(home, "ops_run_steps")
    assert sorted(steps["step"]) == ["01_simulate", "02_bronze", "03_silver"]
    assert json.loads(steps.loc[steps["step"] == "03_silver", "detail"].item())["validated"] == real["validated"]
    assert len(_rows(home, "silver_rule_counts")) == len(real["rules"])


def test_dry_gold_and_publish_runs_compute_and_leave_no_table_checkpoint_or_database(run):
    home, activities = run
    gold = activities["04_gold_dry"].exit_value
    assert gold["write"] is False
    assert gold["features_written"] == activities["03_silver"].exit_value["valid"]
    assert gold["hours_written"] > 0
    tables = {p.name for p in (home / "lakehouse" / "Tables").iterdir()}
    assert not {t for t in tables if t.startswith("gold_") and t != "gold_data_quality"}, tables
    quality = _rows(home, "gold_data_quality")
    assert set(quality["table_name"]) == {"bronze_sensor_readings", "silver_sensor_readings"}
    checkpoints = {p.name for p in (home / "lakehouse" / "Files" / "checkpoints").iterdir()}
    assert "gold_sensor_features" not in checkpoints
    publish = activities["05_publish_dry"].exit_value
    assert publish["write"] is False and publish["target"] == "none (write=False)"
    assert publish["compressors"] == 1 and publish["hourly_readings"] == 0  # gold was never written
    assert publish["refresh"]["semantic_model"] == "skipped (write=False)"
    assert not (home / "state" / "database.json").exists(), "write=False started the serving database"


def test_an_opened_working_copy_runs_cell_by_cell_in_a_jupyter_kernel_and_previews_each_step(
    run, tmp_path, monkeypatch
):
    """What a data engineer does locally: `altaviz notebook open 04_gold`, set `write = False`, run
    the cells one after another in a Jupyter kernel against this state folder's lakehouse."""
    home, _ = run
    copies = tmp_path / "copies"
    opened = CliRunner().invoke(
        app, ["notebook", "open", "04_gold", "--notebooks", str(REPO / "notebooks"), "--copies", str(copies)]
    )
    assert opened.exit_code == 0, opened.output
    nb = nbformat.read(copies / "04_gold.ipynb", as_version=4)
    parameters = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert "write = True" in parameters.source
    parameters.source = parameters.source.replace("write = True", "write = False")
    monkeypatch.setenv("ALTAVIZ_HOME", str(home))
    monkeypatch.delenv("ALTAVIZ_PREVIEW", raising=False)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(copies)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)  # raises CellExecutionError on the first failing cell
    # Each previewing cell showed its frame (a Jupyter kernel is someone looking; papermill runs are not).
    previewing = [c for c in nb.cells if c.cell_type == "code" and "runtime.preview" in c.source]
    assert previewing and all(
        any(o.output_type == "display_data" and "text/html" in o.data for o in c.outputs) for c in previewing
    ), [c.outputs for c in previewing]
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    exit_value = json.loads(printed.split(runtime.EXIT_MARKER, 1)[1].splitlines()[0])
    assert exit_value["write"] is False and exit_value["hours_written"] > 0
    tables = {p.name for p in (home / "lakehouse" / "Tables").iterdir()}
    assert not {t for t in tables if t.startswith("gold_") and t != "gold_data_quality"}, tables
