"""Data-quality metrics per pipeline run, over the rows that run processed (so measuring costs what
the run costs, not what all of history costs):

- freshness_minutes: minutes from the measurement to the newest data in the table.
- completeness_pct: silver — readings the run accepted / readings expected over the span they cover
  (registered units × reporting slots); gold_hourly_readings — hourly rows the run wrote / units × hours.
- consistency_pct: bronze — distinct record ids / rows the run ingested (nothing ingested twice);
  silver — rows in silver + quarantine + pending / rows in bronze, whole tables (nothing lost).
- accuracy_pct: silver — rows accepted / rows judged by the run (readings still pending excluded).

Each layer's step measures its own table. A metric that is undefined for a run (nothing processed)
is left out rather than reported as 0 or 100.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, SparkSession

from altaviz.schemas import GOLD_DATA_QUALITY


def _pct(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else min(100.0, 100.0 * numerator / denominator)


def _minutes(later: datetime, earlier: datetime | None) -> float | None:
    return None if earlier is None else (later - earlier).total_seconds() / 60.0


def _slots(first: datetime | None, last: datetime | None, interval_minutes: float) -> float:
    if first is None or last is None:
        return 0.0
    return (last - first).total_seconds() / 60.0 / interval_minutes + 1


def bronze_metrics(rows: int, distinct_ids: int, newest_ingested_at: datetime | None, now: datetime) -> dict:
    return {"freshness_minutes": _minutes(now, newest_ingested_at), "consistency_pct": _pct(distinct_ids, rows)}


def silver_metrics(
    *,
    accepted: int,
    quarantined: int,
    first_accepted: datetime | None,
    last_accepted: datetime | None,
    newest_reading: datetime | None,
    units: int,
    interval_minutes: float,
    placed_rows: int,
    bronze_rows: int,
    now: datetime,
) -> dict:
    return {
        "freshness_minutes": _minutes(now, newest_reading),
        "completeness_pct": _pct(accepted, units * _slots(first_accepted, last_accepted, interval_minutes)),
        "consistency_pct": _pct(placed_rows, bronze_rows),
        "accuracy_pct": _pct(accepted, accepted + quarantined),
    }


def hourly_metrics(
    *, hours_written: int, first_hour: datetime | None, last_hour: datetime | None, units: int, now: datetime
) -> dict:
    freshness = _minutes(now, last_hour)
    return {
        "freshness_minutes": None if freshness is None else freshness - 60.0,
        "completeness_pct": _pct(hours_written, units * _slots(first_hour, last_hour, 60.0)),
    }


def to_quality_rows(
    spark: SparkSession, table_name: str, metrics: dict, run_id: str, measured_at: datetime
) -> DataFrame:
    """Metrics → rows of ``gold_data_quality`` (undefined metrics left out), rounded to 3 places."""
    rows = [
        (run_id, table_name, name, round(float(value), 3), measured_at)
        for name, value in metrics.items()
        if value is not None
    ]
    return spark.createDataFrame(rows, GOLD_DATA_QUALITY)
