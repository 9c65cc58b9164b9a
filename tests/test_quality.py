from datetime import UTC, datetime, timedelta

from altaviz import quality

from .conftest import ts

NOW = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def _metrics(df):
    return {(r["table_name"], r["metric"]): r["metric_value"] for r in df.collect()}


def test_silver_metrics_reconcile_bronze_silver_and_quarantine(spark):
    bronze = spark.createDataFrame([(f"r{i}",) for i in range(5)], "_record_id string")
    # Two units, 10-minute slots from 00:00 to 00:30 → 8 expected, 3 present.
    silver = spark.createDataFrame(
        [
            ("COMP-001", ts("2026-01-01 00:00")),
            ("COMP-001", ts("2026-01-01 00:30")),
            ("COMP-002", ts("2026-01-01 00:10")),
        ],
        "compressor_id string, timestamp timestamp",
    )
    quarantine = spark.createDataFrame([("r3",)], "_record_id string")
    units = spark.createDataFrame([("COMP-001",), ("COMP-002",)], "compressor_id string")
    m = _metrics(quality.silver_quality(bronze, silver, quarantine, units, 10, "run", NOW))
    assert m[("silver_sensor_readings", "freshness_minutes")] == 90.0
    assert m[("silver_sensor_readings", "completeness_pct")] == 37.5
    assert m[("silver_sensor_readings", "consistency_pct")] == 80.0  # one bronze row is nowhere: lost
    assert m[("silver_sensor_readings", "accuracy_pct")] == 75.0


def test_bronze_consistency_drops_when_a_record_is_ingested_twice(spark):
    bronze = spark.createDataFrame(
        [("a", NOW - timedelta(minutes=5)), ("a", NOW - timedelta(minutes=5)), ("b", NOW - timedelta(minutes=5))],
        "_record_id string, _ingested_at timestamp",
    )
    m = _metrics(quality.bronze_quality(bronze, "run", NOW))
    assert m == {
        ("bronze_sensor_readings", "freshness_minutes"): 5.0,
        ("bronze_sensor_readings", "consistency_pct"): 66.667,
    }


def test_empty_tables_yield_no_metrics_rather_than_nulls(spark):
    empty = spark.createDataFrame([], "hour_start timestamp")
    units = spark.createDataFrame([("COMP-001",)], "compressor_id string")
    assert quality.hourly_quality(empty, units, "run", NOW).count() == 0
