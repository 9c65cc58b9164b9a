"""Silver: typed, validated, deduplicated readings; every failing row kept in quarantine with its rules.

Each bronze row ends in exactly one place: silver, quarantine with the list of rules it failed, or
(for a reading whose next reading has not arrived yet) pending until the next batch judges it.
Every rule looks only at earlier data and the next reading, so the same readings are judged the
same whether they arrive in one batch or in thirty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.config import SENSOR_COLUMNS, Validation
from altaviz.schemas import BRONZE_SENSOR_READINGS, RAW_SENSOR_READINGS, SILVER_SENSOR_READINGS

_HOUR = 3600
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
    """Flags every copy of a key after the first ingested, and keys already judged (``existing_keys``).

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


def to_hourly_sensor_stats(pool: DataFrame, validation: Validation) -> DataFrame:
    """Per compressor and hour with readings: the mean and standard deviation of each sensor over the
    ``outlier_stats_hours`` complete hours before it, and how many readings they rest on.

    In: compressor_id, timestamp, sensor columns. Out grain: (compressor_id, ``_hour``). Counts, sums
    and sums of squares are taken once per unit-hour and combined over a window of hours, so the cost
    is per hour, not per reading times its window.
    """
    sums = [F.sum(s).alias(f"_sum_{s}") for s in SENSOR_COLUMNS]
    squares = [F.sum(F.col(s) * F.col(s)).alias(f"_sq_{s}") for s in SENSOR_COLUMNS]
    hourly = pool.groupBy("compressor_id", F.date_trunc("hour", "timestamp").alias("_hour")).agg(
        F.count(F.lit(1)).alias("_count"), *sums, *squares
    )
    trailing = (
        Window.partitionBy("compressor_id")
        .orderBy(F.col("_hour").cast("long"))
        .rangeBetween(-validation.outlier_stats_hours * _HOUR, -_HOUR)
    )
    totals = [c for c in hourly.columns if c.startswith(("_count", "_sum_", "_sq_"))]
    windowed = hourly.select("compressor_id", "_hour", *[F.sum(c).over(trailing).alias(c) for c in totals])
    stats = [F.col("compressor_id"), F.col("_hour"), F.col("_count").alias("_stats_n")]
    for s in SENSOR_COLUMNS:
        mean = F.try_divide(F.col(f"_sum_{s}"), F.col("_count"))
        variance = F.try_divide(F.col(f"_sq_{s}"), F.col("_count")) - mean * mean
        stats += [mean.alias(f"_mean_{s}"), F.sqrt(F.greatest(variance, F.lit(0.0))).alias(f"_std_{s}")]
    return windowed.select(*stats)


def with_outlier_flag(df: DataFrame, history: DataFrame, validation: Validation) -> DataFrame:
    """Flags spikes (rule ``outlier_4sigma``) and marks readings that must wait for their next one.

    A spike departs from its sensor's trailing mean and from both neighbouring readings of its unit,
    in the same direction, by more than ``outlier_sigma`` standard deviations of that sensor over the
    trailing hours. A step (a trip, a setpoint change) or a ramp (degradation) departs from one
    neighbour only, so it is never a spike.
    Only earlier data and the next reading decide, so a day judged alone and the same day judged
    inside a month give the same answer.

    ``history``: earlier judged readings around the new ones (neighbours and statistics). Adds
    ``_fails_outlier_4sigma`` and ``_is_pending`` (no next reading yet, and the fleet's newest data is
    still within ``outlier_neighbour_gap_minutes`` of this reading: judge it with the next batch).
    """
    eligible = ~_any([F.col(_flag(r)) for r in (*ROW_RULES, "duplicate_reading")])
    pool = (
        df.filter(eligible)
        .select(*KEY, *SENSOR_COLUMNS, F.lit(True).alias("_is_new"))
        .unionByName(history.select(*KEY, *SENSOR_COLUMNS, F.lit(False).alias("_is_new")))
    )
    stats = to_hourly_sensor_stats(pool, validation)
    newest = pool.agg(F.max("timestamp").cast("long").alias("_fleet_newest"))
    gap = int(validation.outlier_neighbour_gap_minutes * 60)
    ordered = Window.partitionBy("compressor_id").orderBy("timestamp")
    seconds = F.col("timestamp").cast("long")
    prev_s, next_s = F.lag(seconds).over(ordered), F.lead(seconds).over(ordered)
    has_prev = prev_s.isNotNull() & (seconds - prev_s <= gap)
    has_next = next_s.isNotNull() & (next_s - seconds <= gap)
    k = validation.outlier_sigma
    departures = []
    for s in SENSOR_COLUMNS:
        x, band = F.col(s), k * F.col(f"_std_{s}")
        off_mean = x - F.col(f"_mean_{s}")
        off_prev, off_next = x - F.lag(s).over(ordered), x - F.lead(s).over(ordered)
        above = (off_mean > band) & (off_prev > band) & (off_next > band)
        below = (off_mean < -band) & (off_prev < -band) & (off_next < -band)
        departures.append((band > 0) & (above | below))
    scored = (
        pool.withColumn("_hour", F.date_trunc("hour", "timestamp"))
        .join(stats, ["compressor_id", "_hour"], "left")
        .crossJoin(F.broadcast(newest))
        .select(
            *KEY,
            "_is_new",
            ((F.col("_stats_n") >= validation.outlier_min_readings) & has_prev & has_next & _any(departures)).alias(
                _flag("outlier_4sigma")
            ),
            (next_s.isNull() & (F.col("_fleet_newest") - seconds <= gap)).alias("_is_pending"),
        )
        .filter("_is_new")
        .drop("_is_new")
    )
    judged = df.join(scored, list(KEY), "left")
    return judged.withColumn(
        _flag("outlier_4sigma"), eligible & F.coalesce(F.col(_flag("outlier_4sigma")), F.lit(False))
    ).withColumn("_is_pending", eligible & F.coalesce(F.col("_is_pending"), F.lit(False)))


def judge_readings(
    candidates: DataFrame,
    known_compressors: DataFrame,
    history: DataFrame,
    validation: Validation,
    now: datetime,
    checkpoint: Callable[[DataFrame], DataFrame] = lambda df: df,
) -> DataFrame:
    """Bronze rows → the same rows with ``failed_rules`` and ``_is_pending``: every rule, in order.

    ``history``: readings already judged around the candidates (silver, and quarantined spikes),
    the keys a candidate duplicates and the neighbours and statistics of the spike check.
    ``checkpoint`` materialises the row-level verdicts before the spike check reads them several
    times (the job passes a local checkpoint; by default the plan is left whole).
    """
    flagged = candidates.transform(with_row_rule_flags, known_compressors, validation, now).transform(
        with_duplicate_flag, history
    )
    return checkpoint(flagged).transform(with_outlier_flag, history, validation).transform(with_failed_rules)


def with_failed_rules(df: DataFrame) -> DataFrame:
    """Adds ``failed_rules``: the names of the rules a row failed, in rule order (empty when valid)."""
    names = [F.when(F.col(_flag(r)), F.lit(r)) for r in RULES]
    return df.withColumn("failed_rules", F.array_compact(F.array(*names))).drop(*[_flag(r) for r in RULES])


def filter_valid_readings(df: DataFrame, run_id: str) -> DataFrame:
    """Rows that failed no rule and wait for nothing, in the silver schema."""
    return (
        df.filter((F.size("failed_rules") == 0) & ~F.col("_is_pending"))
        .withColumn("_silver_run_id", F.lit(run_id))
        .withColumn("reading_date", F.to_date("timestamp"))
        .select(*SILVER_SENSOR_READINGS.fieldNames())
    )


def filter_pending_readings(df: DataFrame) -> DataFrame:
    """Rows waiting for their next reading, as the bronze rows they are (judged again next batch)."""
    return df.filter(F.col("_is_pending")).select(*BRONZE_SENSOR_READINGS.fieldNames())


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


def to_judgement_summary(df: DataFrame) -> DataFrame:
    """Judged rows → one row: how many were judged, accepted, quarantined and left pending, the span
    of the accepted ones, and per rule (a column named after it) how many rows failed it."""
    accepted = (F.size("failed_rules") == 0) & ~F.col("_is_pending")
    return df.agg(
        F.count(F.lit(1)).alias("judged"),
        F.count(F.when(accepted, 1)).alias("accepted"),
        F.count(F.when(F.size("failed_rules") > 0, 1)).alias("quarantined"),
        F.count(F.when(F.col("_is_pending"), 1)).alias("pending"),
        F.min(F.when(accepted, F.col("timestamp"))).alias("first_accepted"),
        F.max(F.when(accepted, F.col("timestamp"))).alias("last_accepted"),
        *[F.count(F.when(F.array_contains("failed_rules", rule), 1)).alias(rule) for rule in RULES],
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
