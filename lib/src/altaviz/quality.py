"""Data-quality metrics per pipeline run: freshness, completeness, consistency, accuracy.

- freshness_minutes: minutes from the measurement to the newest data in the table.
- completeness_pct: rows present / rows expected (registered units × reporting slots in the span).
- consistency_pct: silver — bronze rows accounted for in silver or quarantine (nothing lost);
  bronze — distinct record ids / rows (nothing ingested twice).
- accuracy_pct: silver — rows that passed every rule / rows validated.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

_MINUTES = 60.0


def _minutes_between(later: Column, earlier: Column) -> Column:
    return (later.cast("double") - earlier.cast("double")) / _MINUTES


def _pct(numerator: Column, denominator: Column) -> Column:
    ratio = F.try_divide(numerator.cast("double") * 100.0, denominator.cast("double"))
    # least() skips nulls, so an undefined ratio (empty table) must stay null explicitly.
    return F.when(ratio.isNotNull(), F.least(F.lit(100.0), ratio))


def _melt(df: DataFrame, table_name: str, run_id: str, measured_at: datetime) -> DataFrame:
    """One-row frame of metric columns → rows (run_id, table_name, metric, metric_value, measured_at)."""
    metrics = [c for c in df.columns]
    return (
        df.unpivot([], metrics, "metric", "metric_value")
        .filter(F.col("metric_value").isNotNull())
        .select(
            F.lit(run_id).alias("run_id"),
            F.lit(table_name).alias("table_name"),
            "metric",
            F.round(F.col("metric_value").cast("double"), 3).alias("metric_value"),
            F.lit(measured_at).cast("timestamp").alias("measured_at"),
        )
    )


def bronze_quality(bronze: DataFrame, run_id: str, measured_at: datetime) -> DataFrame:
    now = F.lit(measured_at).cast("timestamp")
    stats = bronze.agg(
        _minutes_between(now, F.max("_ingested_at")).alias("freshness_minutes"),
        _pct(F.count_distinct("_record_id"), F.count(F.lit(1))).alias("consistency_pct"),
    )
    return _melt(stats, "bronze_sensor_readings", run_id, measured_at)


def silver_quality(
    bronze: DataFrame,
    silver: DataFrame,
    quarantine: DataFrame,
    compressors: DataFrame,
    interval_minutes: int,
    run_id: str,
    measured_at: datetime,
) -> DataFrame:
    now = F.lit(measured_at).cast("timestamp")
    s = silver.agg(
        F.count(F.lit(1)).alias("n_silver"), F.min("timestamp").alias("first_ts"), F.max("timestamp").alias("last_ts")
    )
    q = quarantine.agg(F.count(F.lit(1)).alias("n_quarantine"))
    b = bronze.agg(F.count(F.lit(1)).alias("n_bronze"))
    c = compressors.agg(F.count(F.lit(1)).alias("n_units"))
    slots = _minutes_between(F.col("last_ts"), F.col("first_ts")) / interval_minutes + 1
    stats = (
        s.crossJoin(q)
        .crossJoin(b)
        .crossJoin(c)
        .select(
            _minutes_between(now, F.col("last_ts")).alias("freshness_minutes"),
            _pct(F.col("n_silver"), F.col("n_units") * slots).alias("completeness_pct"),
            _pct(F.col("n_silver") + F.col("n_quarantine"), F.col("n_bronze")).alias("consistency_pct"),
            _pct(F.col("n_silver"), F.col("n_silver") + F.col("n_quarantine")).alias("accuracy_pct"),
        )
    )
    return _melt(stats, "silver_sensor_readings", run_id, measured_at)


def hourly_quality(hourly: DataFrame, compressors: DataFrame, run_id: str, measured_at: datetime) -> DataFrame:
    now = F.lit(measured_at).cast("timestamp")
    h = hourly.agg(
        F.count(F.lit(1)).alias("n_hours"), F.min("hour_start").alias("first_h"), F.max("hour_start").alias("last_h")
    )
    c = compressors.agg(F.count(F.lit(1)).alias("n_units"))
    hours = _minutes_between(F.col("last_h"), F.col("first_h")) / 60 + 1
    stats = h.crossJoin(c).select(
        (_minutes_between(now, F.col("last_h")) - 60).alias("freshness_minutes"),
        _pct(F.col("n_hours"), F.col("n_units") * hours).alias("completeness_pct"),
    )
    return _melt(stats, "gold_hourly_readings", run_id, measured_at)
