"""The hostile-delivery corpus (tests/hostile/corpus.py) landed beside a good delivery: each kind
ends in its declared outcome, every good row reaches silver, and a rerun changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from altaviz import jobs, lakehouse
from altaviz.lakehouse import Lakehouse
from tests.hostile import corpus

TABLES = (
    "bronze_sensor_readings",
    "bronze_landed_files",
    "bronze_rejected_files",
    "silver_sensor_readings",
    "silver_quarantine_readings",
    "silver_pending_readings",
    "gold_hourly_readings",
)


def _run(spark, lh, run_id):
    out = {"bronze": jobs.run_bronze(spark, run_id=run_id, lakehouse_root=lh.root)}
    out["silver"] = jobs.run_silver(spark, run_id=run_id, lakehouse_root=lh.root)
    out["gold"] = jobs.run_gold(spark, run_id=run_id, lakehouse_root=lh.root)
    return out


def _frames(spark, lh):
    return {t: lakehouse.read(spark, lh, t).toPandas() for t in TABLES}


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    lh = Lakehouse(str(tmp_path_factory.mktemp("hostile") / "lakehouse"))
    raw = Path(lh.root) / "Files/raw"
    corpus.land_registry(raw, ["COMP-001", "COMP-002", "COMP-003"], "batch-1")
    good_file, good = corpus.land_good(raw)
    first_kinds = corpus.land_corpus(raw, good_file)
    first = _run(spark, lh, "hostile-1")
    after_first = _frames(spark, lh)
    second_kinds = corpus.land_second_run(raw, good)
    corpus.land_registry(raw, ["COMP-001", "COMP-002", "COMP-003", "COMP-004"], "batch-2")
    second = _run(spark, lh, "hostile-2")
    after_second = _frames(spark, lh)
    third = _run(spark, lh, "hostile-3")
    after_third = _frames(spark, lh)
    return {
        "kinds": first_kinds + second_kinds,
        "good": good,
        "good_file": good_file,
        "summaries": (first, second, third),
        "frames": (after_first, after_second, after_third),
    }


def _of(frame, path):
    return frame[frame._source_file.str.endswith(str(path))]


def test_the_corpus_has_at_least_twenty_kinds(landed):
    assert len(landed["kinds"]) >= 20


def test_each_kind_ends_in_its_declared_outcome(landed):
    final = landed["frames"][1]
    bronze, rejected = final["bronze_sensor_readings"], final["bronze_rejected_files"]
    silver, quarantine = final["silver_sensor_readings"], final["silver_quarantine_readings"]
    failures = []
    for kind in landed["kinds"]:
        outcome = kind.outcome
        mine = rejected[rejected.source_file.str.endswith(str(kind.path))]
        rows = _of(bronze, kind.path)
        in_silver = silver[silver._record_id.isin(rows._record_id)]
        held = _of(quarantine, kind.path)
        got = {
            "rejected": list(mine.reason),
            "silver": len(in_silver),
            "rules": dict(Counter(r for rules in held.failed_rules for r in rules)),
        }
        if outcome[0] == "rejected":
            ok = len(mine) == 1 and mine.reason.iloc[0].startswith(outcome[1]) and rows.empty
        elif outcome[0] == "silver":
            ok = not len(mine) and len(in_silver) == outcome[1] and held.empty
        elif outcome[0] == "quarantined":
            ok = not len(mine) and got["rules"] == outcome[1] and len(in_silver) == outcome[2]
        elif outcome[0] == "empty":  # readable, no rows: nothing lost, listed as empty, not rejected
            ledger = final["bronze_landed_files"]
            ok = (
                rows.empty
                and not len(mine)
                and list(ledger[ledger.source_file.str.endswith(str(kind.path))].outcome) == ["empty"]
            )
        else:  # ignored: never listed, never read
            ok = (
                rows.empty
                and not len(mine)
                and not final["bronze_landed_files"].source_file.str.endswith(str(kind.path)).any()
            )
        if not ok:
            failures.append(f"{kind.name}: expected {outcome}, got {got}")
    assert not failures, "\n".join(failures)


def test_timestamps_are_normalised_to_the_utc_instant(landed):
    silver = landed["frames"][1]["silver_sensor_readings"]
    bronze = landed["frames"][1]["bronze_sensor_readings"]
    for kind in landed["kinds"]:
        if kind.outcome[0] != "silver":
            continue
        rows = _of(bronze, kind.path)
        times = sorted(silver[silver._record_id.isin(rows._record_id)].timestamp)
        start = min(times)
        assert start.minute == 0 and start.second == 0, kind.name
        assert [t - start for t in times] == [timedelta(minutes=10 * i) for i in range(len(times))], kind.name


def test_every_good_row_reaches_silver(landed):
    final = landed["frames"][1]
    rows = _of(final["bronze_sensor_readings"], landed["good_file"])
    assert len(rows) == len(landed["good"]) == 288
    silver, pending = final["silver_sensor_readings"], final["silver_pending_readings"]
    placed = set(silver._record_id) | set(pending._record_id)
    assert set(rows._record_id) <= placed
    assert len(pending[pending._record_id.isin(rows._record_id)]) == 2  # each unit's newest waits for its next


def test_a_held_unit_is_released_when_the_registry_knows_it(landed):
    first, second = landed["frames"][0], landed["frames"][1]
    assert (first["silver_quarantine_readings"].compressor_id == "COMP-004").sum() == 6
    assert (second["silver_quarantine_readings"].compressor_id == "COMP-004").sum() == 0
    assert (second["silver_sensor_readings"].compressor_id == "COMP-004").sum() == 6
    assert landed["summaries"][1]["silver"]["released_held"] == 6


def test_a_late_file_recomputes_gold_for_its_day(landed):
    late_hour = corpus.hour(22).replace(tzinfo=None)

    def hours(frames):
        g = frames["gold_hourly_readings"]
        return set(
            g[g.compressor_id == "COMP-003"].hour_start
            if "hour_start" in g
            else g[g.compressor_id == "COMP-003"].iloc[:, 1]
        )

    assert late_hour not in hours(landed["frames"][0])
    assert late_hour in hours(landed["frames"][1])


def test_the_summary_counts_rejections_per_reason(landed):
    bronze = landed["summaries"][0]["bronze"]
    expected = Counter(k.outcome[1].split(":")[0] for k in landed["kinds"] if k.outcome[0] == "rejected")
    assert bronze["rejected"] == dict(expected) and bronze["rejected_files"] == sum(expected.values())


def test_a_rerun_changes_nothing(landed):
    second, third = landed["frames"][1], landed["frames"][2]
    for table in TABLES:
        assert len(third[table]) == len(second[table]), table
    assert landed["summaries"][2]["bronze"]["rejected_files"] == 0
    assert landed["summaries"][2]["bronze"]["bronze_sensor_readings"] == 0


def test_altaviz_run_exits_4_when_files_were_rejected_and_0_when_rows_were_only_quarantined(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from altaviz import cli, runner

    def result_with(rejected: int):
        bronze = {"rejected_files": rejected, "rejected": {"unreadable": rejected} if rejected else {}}
        silver = {"quarantined": 3, "rules": {"unparseable_value": 3}}
        activities = [
            SimpleNamespace(name=n, status="succeeded", seconds=1.0, error=None, exit_value=v)
            for n, v in (("02_bronze", bronze), ("03_silver", silver))
        ]
        return SimpleNamespace(run_id="r", succeeded=True, activities=activities)

    monkeypatch.setattr(cli, "_first_operator", lambda home: None)
    for rejected, code in ((0, 0), (2, cli.EXIT_REJECTED_INPUT)):
        monkeypatch.setattr(runner, "run_pipeline", lambda *a, r=rejected, **k: result_with(r))
        out = CliRunner().invoke(cli.app, ["run", "--home", str(tmp_path)])
        assert out.exit_code == code, out.output
        assert "unparseable_value 3" in out.output
        assert ("rejected files this run: 2 (unreadable 2)" in out.output) == bool(rejected)
    assert cli.EXIT_REJECTED_INPUT == 4
