from datetime import UTC, datetime, timedelta

from altaviz import quality
from altaviz.schemas import GOLD_DATA_QUALITY

NOW = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def test_silver_metrics_reconcile_what_the_run_judged():
    metrics = quality.silver_metrics(
        accepted=3,
        quarantined=1,
        # Two units, 10-minute slots from 00:00 to 00:30: 8 readings expected, 3 accepted.
        first_accepted=NOW - timedelta(hours=2),
        last_accepted=NOW - timedelta(minutes=90),
        newest_reading=NOW - timedelta(minutes=90),
        units=2,
        interval_minutes=10,
        placed_rows=4,
        bronze_rows=5,  # one bronze row is nowhere: lost
        now=NOW,
    )
    assert metrics == {
        "freshness_minutes": 90.0,
        "completeness_pct": 37.5,
        "consistency_pct": 80.0,
        "accuracy_pct": 75.0,
    }


def test_bronze_consistency_drops_when_a_record_is_ingested_twice():
    assert quality.bronze_metrics(3, 2, NOW - timedelta(minutes=5), NOW) == {
        "freshness_minutes": 5.0,
        "consistency_pct": 200 / 3,
    }


def test_a_run_that_processed_nothing_reports_only_what_is_defined(spark):
    metrics = quality.hourly_metrics(hours_written=0, first_hour=None, last_hour=None, units=10, now=NOW)
    assert metrics == {"freshness_minutes": None, "completeness_pct": None}
    assert quality.to_quality_rows(spark, "gold_hourly_readings", metrics, "run", NOW).count() == 0
    bronze = quality.bronze_metrics(0, 0, NOW - timedelta(minutes=30), NOW)
    rows = quality.to_quality_rows(spark, "bronze_sensor_readings", bronze, "run", NOW)
    assert rows.schema == GOLD_DATA_QUALITY
    assert [(r["metric"], r["metric_value"]) for r in rows.collect()] == [("freshness_minutes", 30.0)]


def test_hourly_completeness_counts_unit_hours():
    metrics = quality.hourly_metrics(
        hours_written=15, first_hour=NOW - timedelta(hours=10), last_hour=NOW - timedelta(hours=1), units=2, now=NOW
    )
    assert metrics == {"freshness_minutes": 0.0, "completeness_pct": 75.0}
