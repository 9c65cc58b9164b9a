from datetime import UTC, datetime, timedelta

from altaviz import silver
from altaviz.schemas import BRONZE_SENSOR_READINGS, SILVER_SENSOR_READINGS
from pyspark.sql import functions as F

from .conftest import ts

NOW = datetime(2026, 1, 2, tzinfo=UTC)
GOOD = dict(vib=2.5, temp=250.0, suc=60.0, dis=1000.0, hp=1200.0, flow=9000.0)


def _bronze(spark, rows):
    """rows: (record_id, unit, when, overrides) → bronze-shaped frame."""
    out = []
    for rid, unit, when, over in rows:
        v = {**GOOD, **over}
        out.append(
            (
                unit,
                when if when is None else ts(when),
                v["vib"],
                v["temp"],
                v["suc"],
                v["dis"],
                v["hp"],
                v["flow"],
                rid,
                "file-1",
                datetime(2026, 1, 2, tzinfo=UTC) + timedelta(seconds=int(rid[1:])),
                "run-b",
            )
        )
    return spark.createDataFrame(out, BRONZE_SENSOR_READINGS)


def _known(spark, *units):
    return spark.createDataFrame([(u,) for u in units], "compressor_id string")


def _judge(spark, config, df, existing=None, history=None):
    empty = spark.createDataFrame([], SILVER_SENSOR_READINGS)
    return (
        df.transform(silver.with_row_rule_flags, _known(spark, "COMP-001", "COMP-002"), config.validation, NOW)
        .transform(silver.with_duplicate_flag, existing if existing is not None else empty)
        .transform(silver.with_outlier_flag, history if history is not None else empty, config.validation)
        .transform(silver.with_failed_rules)
    )


def _rules(df):
    return {r["_record_id"]: r["failed_rules"] for r in df.collect()}


def test_each_row_rule_names_the_failing_rows(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {}),
        ("r2", "COMP-001", "2026-01-01 00:10", {"vib": None}),
        ("r3", "COMP-009", "2026-01-01 00:20", {}),
        ("r4", "COMP-001", "2026-01-01 00:30", {"suc": -5.0}),
        ("r5", "COMP-001", "2026-01-03 00:00", {}),
        ("r6", "COMP-002", "2026-01-01 00:40", {"suc": 0.0}),  # exactly at the range limit: valid
        ("r7", None, "2026-01-01 00:50", {"dis": 5000.0}),
        ("r8", "COMP-001", "2026-01-02 00:04", {}),  # within the 5-minute clock tolerance
    ]
    judged = _rules(_judge(spark, config, _bronze(spark, rows)))
    assert judged == {
        "r1": [],
        "r2": ["missing_value"],
        "r3": ["unknown_compressor"],
        "r4": ["out_of_range"],
        "r5": ["future_timestamp"],
        "r6": [],
        "r7": ["missing_value", "out_of_range"],
        "r8": [],
    }


def test_duplicates_keep_the_first_good_copy_and_flag_the_rest(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {"vib": None}),  # broken copy: must not win the key
        ("r2", "COMP-001", "2026-01-01 00:00", {}),
        ("r3", "COMP-001", "2026-01-01 00:00", {}),
        ("r4", "COMP-002", "2026-01-01 00:00", {}),  # already in silver
    ]
    existing = spark.createDataFrame(
        [("COMP-002", ts("2026-01-01 00:00"), 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0, "x", "f0", "b0", "s0")],
        SILVER_SENSOR_READINGS,
    )
    judged = _rules(_judge(spark, config, _bronze(spark, rows), existing=existing))
    assert judged == {"r1": ["missing_value"], "r2": [], "r3": ["duplicate_reading"], "r4": ["duplicate_reading"]}


def _steady(spark, n, spike_at=None, ramp=0.0):
    rows = []
    for i in range(n):
        vib = 2.5 + (0.05 if i % 2 else -0.05) + ramp * i
        if i == spike_at:
            vib = 9.0
        rows.append(
            (f"r{i}", "COMP-001", (datetime(2026, 1, 1) + timedelta(minutes=10 * i)).isoformat(sep=" "), {"vib": vib})
        )
    return _bronze(spark, rows)


def test_a_spike_is_a_4_sigma_outlier_but_a_ramp_is_not(spark, config):
    spiked = _rules(_judge(spark, config, _steady(spark, 60, spike_at=30)))
    assert spiked["r30"] == ["outlier_4sigma"]
    assert sum(1 for r in spiked.values() if r) == 1
    ramp = _rules(_judge(spark, config, _steady(spark, 144, ramp=0.05)))  # 2.5 → 9.7 mm/s over a day
    assert not any(ramp.values())


def test_too_few_readings_never_make_an_outlier(spark, config):
    judged = _rules(_judge(spark, config, _steady(spark, 10, spike_at=5)))
    assert not any(judged.values())


def test_silver_history_counts_toward_outlier_statistics(spark, config):
    history = _steady(spark, 60).withColumn("_silver_run_id", F.lit("s0")).select(*SILVER_SENSOR_READINGS.fieldNames())
    late = _bronze(spark, [("r99", "COMP-001", "2026-01-01 05:05", {"vib": 9.0})])
    assert _rules(_judge(spark, config, late, history=history)) == {"r99": ["outlier_4sigma"]}


def test_valid_quarantine_and_counts_account_for_every_row(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {}),
        ("r2", "COMP-001", "2026-01-01 00:00", {}),
        ("r3", "COMP-009", "2026-01-01 00:10", {"vib": None}),
        ("r4", "COMP-002", "2026-01-01 00:10", {}),
    ]
    judged = _judge(spark, config, _bronze(spark, rows)).cache()
    valid = silver.filter_valid_readings(judged, "run-s")
    bad = silver.filter_quarantined_readings(judged, "run-s")
    assert valid.columns == SILVER_SENSOR_READINGS.fieldNames()
    assert sorted(r["_record_id"] for r in valid.collect()) == ["r1", "r4"]
    assert sorted(r["_record_id"] for r in bad.collect()) == ["r2", "r3"]
    counts = {r["rule"]: r["failed_rows"] for r in silver.to_rule_counts(judged, "run-s", NOW).collect()}
    assert counts == {
        "missing_value": 1,
        "out_of_range": 0,
        "unknown_compressor": 1,
        "future_timestamp": 0,
        "duplicate_reading": 1,
        "outlier_4sigma": 0,
    }


def test_latest_registry_takes_the_newest_ingested_version(spark):
    df = spark.createDataFrame(
        [
            ("COMP-001", "STN-001", ts("2026-01-01 00:00"), "a"),
            ("COMP-001", "STN-002", ts("2026-01-02 00:00"), "b"),
            (None, "STN-003", ts("2026-01-03 00:00"), "c"),
        ],
        "compressor_id string, station_id string, _ingested_at timestamp, _record_id string",
    )
    latest = silver.to_latest_registry(df, "compressor_id", ["compressor_id", "station_id"]).collect()
    assert [tuple(r) for r in latest] == [("COMP-001", "STN-002")]
