"""Threshold levels with hysteresis, and alert episodes built from them.

A level is 0 normal, 1 warning, 2 critical. It is a Schmitt trigger on the smoothed signal: it
rises when the signal reaches a limit and falls only once the signal is ``clear_margin_fraction``
of the limit back on the safe side. In Spark that is "the last set-or-reset event so far", a
``last(…, ignorenulls)`` window, so no Python loops run per reading.

An episode is a run of non-normal levels for one compressor and sensor: it opens, may escalate
to critical and de-escalate, and clears at the first normal reading. Its id hashes compressor,
sensor and opening time, so reruns over the same history yield the same ids.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.config import AlertRules, Threshold

LEVEL_NAMES = {0: "normal", 1: "warning", 2: "critical"}

# Which smoothed gold feature each alerting sensor is judged on.
ALERT_SIGNALS = {
    "vibration_mms": "vibration_1hr_mean",
    "discharge_temp_f": "temp_1hr_mean",
    "discharge_pressure_psi": "discharge_pressure_1hr_mean",
    "suction_pressure_psi": "suction_pressure_1hr_mean",
}


def level_column(sensor: str) -> str:
    return f"{sensor}_level"


def level_name(level: Column) -> Column:
    return F.element_at(F.create_map(*[F.lit(x) for kv in LEVEL_NAMES.items() for x in kv]), level)


def _latched(signal: Column, limit: float, threshold: Threshold, margin: float, ordered: Window) -> Column:
    """1 while the limit is latched: set on reaching it, reset beyond limit ∓ margin·|limit|."""
    clear_band = margin * abs(limit)
    if threshold.direction == "high":
        event = F.when(signal >= limit, 1).when(signal < limit - clear_band, 0)
    else:
        event = F.when(signal <= limit, 1).when(signal > limit + clear_band, 0)
    return F.coalesce(F.last(event, ignorenulls=True).over(ordered), F.lit(0))


def with_sensor_levels(df: DataFrame, thresholds: dict[str, Threshold], rules: AlertRules) -> DataFrame:
    """Adds ``<sensor>_level`` (0/1/2) per alerting sensor, from its smoothed signal, with hysteresis."""
    ordered = Window.partitionBy("compressor_id").orderBy("timestamp").rowsBetween(Window.unboundedPreceding, 0)
    for sensor, threshold in thresholds.items():
        signal = F.col(ALERT_SIGNALS[sensor])
        warning = _latched(signal, threshold.warning, threshold, rules.clear_margin_fraction, ordered)
        critical = _latched(signal, threshold.critical, threshold, rules.clear_margin_fraction, ordered)
        df = df.withColumn(level_column(sensor), F.greatest(warning, critical * 2))
    return df


def to_sensor_levels_long(features: DataFrame, thresholds: dict[str, Threshold]) -> DataFrame:
    """One row per compressor, timestamp and alerting sensor: ``sensor``, ``signal``, ``level``, ``limit``."""
    parts = [
        features.select(
            "compressor_id",
            "timestamp",
            F.lit(sensor).alias("sensor"),
            F.col(ALERT_SIGNALS[sensor]).alias("signal"),
            F.col(level_column(sensor)).alias("level"),
            F.lit(t.direction).alias("direction"),
            F.lit(float(t.warning)).alias("warning"),
            F.lit(float(t.critical)).alias("critical"),
        )
        for sensor, t in thresholds.items()
    ]
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result


def to_alert_episodes(levels: DataFrame) -> DataFrame:
    """Collapses per-reading levels into episodes (grain: compressor, sensor, opening time)."""
    ordered = Window.partitionBy("compressor_id", "sensor").orderBy("timestamp")
    marked = (
        levels.withColumn("_next_ts", F.lead("timestamp").over(ordered))
        .withColumn("_prev_level", F.coalesce(F.lag("level").over(ordered), F.lit(0)))
        .withColumn("_opens", ((F.col("level") > 0) & (F.col("_prev_level") == 0)).cast("int"))
        .withColumn("_episode", F.sum("_opens").over(ordered.rowsBetween(Window.unboundedPreceding, 0)))
        .filter(F.col("level") > 0)
    )
    worst_signal = F.when(F.first("direction") == "high", F.max("signal")).otherwise(F.min("signal"))
    episodes = marked.groupBy("compressor_id", "sensor", "_episode").agg(
        F.min("timestamp").alias("opened_at"),
        F.min(F.when(F.col("level") == 2, F.col("timestamp"))).alias("escalated_at"),
        F.max("timestamp").alias("last_reading_at"),
        F.max_by("_next_ts", "timestamp").alias("cleared_at"),
        F.max("level").alias("_peak_level"),
        F.max_by("level", "timestamp").alias("_last_level"),
        worst_signal.alias("peak_value"),
        F.max_by("signal", "timestamp").alias("last_value"),
        F.first("warning").alias("_warning"),
        F.first("critical").alias("_critical"),
        F.count(F.lit(1)).cast("int").alias("reading_count"),
    )
    is_active = F.col("cleared_at").isNull()
    return episodes.select(
        F.substring(
            F.sha2(
                F.concat_ws("|", "compressor_id", "sensor", F.date_format("opened_at", "yyyy-MM-dd'T'HH:mm:ss")), 256
            ),
            1,
            32,
        ).alias("alert_id"),
        "compressor_id",
        "sensor",
        level_name(F.col("_peak_level")).alias("severity"),
        F.when(is_active, level_name(F.col("_last_level"))).otherwise(F.lit("normal")).alias("current_severity"),
        is_active.alias("is_active"),
        "opened_at",
        "escalated_at",
        "cleared_at",
        "last_reading_at",
        F.when(F.col("_peak_level") == 2, F.col("_critical")).otherwise(F.col("_warning")).alias("threshold_value"),
        F.round("peak_value", 3).alias("peak_value"),
        F.round("last_value", 3).alias("last_value"),
        "reading_count",
    )
