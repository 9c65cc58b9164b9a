"""Silver: typed, validated, deduplicated readings; every failing row kept in quarantine with its rules.

Each bronze row ends in exactly one place: silver, or quarantine with the list of rules it failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.config import SENSOR_COLUMNS, Validation
from altaviz.schemas import RAW_SENSOR_READINGS, SILVER_SENSOR_READINGS

KEY = ("compressor_id", "timestamp")
ROW_RULES = ("missing_value", "out_of_range", "unknown_compressor", "future_timestamp")
RULES = (*ROW_RULES, "duplicate_reading", "outlier_4sigma")


def _flag(rule: str) -> str:
    return f"_fails_{rule}"


def with_row_rule_flags(
    df: DataFrame, known_compressors: DataFrame, validation: Validation, now: datetime
) -> DataFrame:
    """Adds one boolean per row-level rule: missing values, physical ranges, unknown unit, future time."""
    known = known_compressors.select("compressor_id", F.lit(True).alias("_is_known"))
    out_of_range = [
        (F.col(s) < validation.ranges[s].min) | (F.col(s) > validation.ranges[s].max) for s in SENSOR_COLUMNS
    ]
    latest_allowed = now + timedelta(minutes=validation.future_tolerance_minutes)
    return (
        df.join(F.broadcast(known), "compressor_id", "left")
        .withColumn(_flag("missing_value"), _any([F.col(c).isNull() for c in RAW_SENSOR_READINGS.fieldNames()]))
        .withColumn(_flag("out_of_range"), F.coalesce(_any(out_of_range), F.lit(False)))
        .withColumn(_flag("unknown_compressor"), F.col("compressor_id").isNotNull() & F.col("_is_known").isNull())
        .withColumn(_flag("future_timestamp"), F.coalesce(F.col("timestamp") > F.lit(latest_allowed), F.lit(False)))
        .drop("_is_known")
    )


def with_duplicate_flag(df: DataFrame, existing_keys: DataFrame) -> DataFrame:
    """Flags every copy of a key after the first ingested, and keys silver already holds.

    Only rows passing the row rules compete for a key, so a broken row never displaces a good one.
    """
    passes_row_rules = ~_any([F.col(_flag(r)) for r in ROW_RULES])
    first_wins = Window.partitionBy(*KEY).orderBy(F.col("_passes").desc(), "_ingested_at", "_record_id")
    held = existing_keys.select(*KEY).distinct().withColumn("_in_silver", F.lit(True))
    return (
        df.withColumn("_passes", passes_row_rules)
        .join(held, list(KEY), "left")
        .withColumn(
            _flag("duplicate_reading"),
            F.col("_passes") & ((F.row_number().over(first_wins) > 1) | F.col("_in_silver").isNotNull()),
        )
        .drop("_passes", "_in_silver")
    )


def with_outlier_flag(df: DataFrame, history: DataFrame, validation: Validation) -> DataFrame:
    """Flags readings more than ``outlier_sigma`` standard deviations from their compressor's mean.

    Statistics come from a window centred on each reading over new rows and silver ``history``
    together. A centred window keeps a steady ramp (a degrading bearing) or a step (a unit
    restart) from being mistaken for an outlier: the reading always sits mid-window.
    """
    eligible = ~_any([F.col(_flag(r)) for r in (*ROW_RULES, "duplicate_reading")])
    half = int(validation.outlier_window_hours * 3600 / 2)
    window = Window.partitionBy("compressor_id").orderBy(F.col("timestamp").cast("long")).rangeBetween(-half, half)
    pool = (
        df.filter(eligible)
        .select(*KEY, *SENSOR_COLUMNS, F.lit(True).alias("_is_new"))
        .unionByName(history.select(*KEY, *SENSOR_COLUMNS, F.lit(False).alias("_is_new")))
    )
    deviations = []
    for s in SENSOR_COLUMNS:
        mean, std = F.avg(s).over(window), F.stddev_pop(s).over(window)
        deviations.append((std > 0) & (F.abs(F.col(s) - mean) > validation.outlier_sigma * std))
    scored = (
        pool.withColumn("_n", F.count(F.lit(1)).over(window))
        .withColumn(_flag("outlier_4sigma"), (F.col("_n") >= validation.outlier_min_readings) & _any(deviations))
        .filter("_is_new")
        .select(*KEY, _flag("outlier_4sigma"))
    )
    return df.join(scored, list(KEY), "left").withColumn(
        _flag("outlier_4sigma"), eligible & F.coalesce(F.col(_flag("outlier_4sigma")), F.lit(False))
    )


def with_failed_rules(df: DataFrame) -> DataFrame:
    """Adds ``failed_rules``: the names of the rules a row failed, in rule order (empty when valid)."""
    names = [F.when(F.col(_flag(r)), F.lit(r)) for r in RULES]
    return df.withColumn("failed_rules", F.array_compact(F.array(*names))).drop(*[_flag(r) for r in RULES])


def filter_valid_readings(df: DataFrame, run_id: str) -> DataFrame:
    """Rows that failed no rule, in the silver schema."""
    return (
        df.filter(F.size("failed_rules") == 0)
        .withColumn("_silver_run_id", F.lit(run_id))
        .select(*SILVER_SENSOR_READINGS.fieldNames())
    )


def filter_quarantined_readings(df: DataFrame, run_id: str) -> DataFrame:
    """Rows that failed at least one rule, with their values as landed and the rules they failed."""
    return (
        df.filter(F.size("failed_rules") > 0)
        .withColumn("_silver_run_id", F.lit(run_id))
        .select(
            *RAW_SENSOR_READINGS.fieldNames(),
            "_record_id",
            "_source_file",
            "_ingest_run_id",
            "_silver_run_id",
            "failed_rules",
        )
    )


def to_rule_counts(df: DataFrame, run_id: str, measured_at: datetime) -> DataFrame:
    """One row per rule (zeros included) with how many rows of this run failed it."""
    failed = F.explode("failed_rules").alias("rule")
    counted = df.select(failed).groupBy("rule").agg(F.count(F.lit(1)).alias("failed_rows"))
    all_rules = df.sparkSession.createDataFrame([(r,) for r in RULES], "rule string")
    return all_rules.join(counted, "rule", "left").select(
        F.lit(run_id).alias("run_id"),
        "rule",
        F.coalesce("failed_rows", F.lit(0)).cast("long").alias("failed_rows"),
        F.lit(measured_at).cast("timestamp").alias("measured_at"),
    )


def to_latest_registry(bronze: DataFrame, key: str, columns: list[str]) -> DataFrame:
    """The newest ingested version of each registry entry (stations, compressors)."""
    newest = Window.partitionBy(key).orderBy(F.col("_ingested_at").desc(), F.col("_record_id").desc())
    return (
        bronze.filter(F.col(key).isNotNull())
        .withColumn("_rank", F.row_number().over(newest))
        .filter("_rank = 1")
        .select(*columns)
    )


def _any(conditions: list[Column]) -> Column:
    result = conditions[0]
    for c in conditions[1:]:
        result = result | c
    return result
