"""Gold: rolling features, threshold statuses, hourly aggregates.

Feature names follow the original Altaviz (vibration_1hr_mean, temp_4hr_mean, …). Windows are
time ranges over each compressor's own readings, so gaps in reporting shrink a window rather
than stretching it over older data.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.alerts import level_column, level_name, with_sensor_levels
from altaviz.config import AltavizConfig

HOUR = 3600


def _trailing(seconds: int) -> Window:
    """The readings of the same compressor in the ``seconds`` up to and including this one."""
    return Window.partitionBy("compressor_id").orderBy(F.col("timestamp").cast("long")).rangeBetween(-(seconds - 1), 0)


def with_rolling_features(df: DataFrame) -> DataFrame:
    """Adds trailing means, the 1-hour temperature change and the pressure differential.

    In: compressor_id, timestamp, sensor columns. Grain unchanged (one row per reading).
    """
    return (
        df.withColumn("vibration_1hr_mean", F.avg("vibration_mms").over(_trailing(HOUR)))
        .withColumn("temp_1hr_mean", F.avg("discharge_temp_f").over(_trailing(HOUR)))
        .withColumn("temp_4hr_mean", F.avg("discharge_temp_f").over(_trailing(4 * HOUR)))
        .withColumn("discharge_pressure_1hr_mean", F.avg("discharge_pressure_psi").over(_trailing(HOUR)))
        .withColumn("suction_pressure_1hr_mean", F.avg("suction_pressure_psi").over(_trailing(HOUR)))
        .withColumn("pressure_24hr_mean", F.avg("discharge_pressure_psi").over(_trailing(24 * HOUR)))
        # Change over the last hour: now minus the oldest reading inside the hour (°F per hour).
        .withColumn("temp_1hr_delta", F.col("discharge_temp_f") - F.first("discharge_temp_f").over(_trailing(HOUR + 1)))
        .withColumn("pressure_differential", F.col("discharge_pressure_psi") - F.col("suction_pressure_psi"))
    )


def with_time_features(df: DataFrame) -> DataFrame:
    """Adds hour_of_day (0–23, UTC), day_of_week (ISO, Monday = 1) and is_weekend."""
    iso_day = (F.dayofweek("timestamp") + 5) % 7 + 1
    return (
        df.withColumn("hour_of_day", F.hour("timestamp"))
        .withColumn("day_of_week", iso_day)
        .withColumn("is_weekend", iso_day >= 6)
    )


def _worst(*levels: Column) -> Column:
    present = [F.coalesce(level, F.lit(0)) for level in levels]
    return present[0] if len(present) == 1 else F.greatest(*present)


def with_threshold_status(df: DataFrame, config: AltavizConfig) -> DataFrame:
    """Adds per-sensor levels (with hysteresis) and vibration_status, temp_status, pressure_status."""
    thresholds = config.thresholds
    levelled = with_sensor_levels(df, thresholds, config.alerts)

    def level(sensor: str) -> Column:
        return F.col(level_column(sensor)) if sensor in thresholds else F.lit(0)

    return (
        levelled.withColumn("vibration_status", level_name(level("vibration_mms")))
        .withColumn("temp_status", level_name(level("discharge_temp_f")))
        .withColumn(
            "pressure_status", level_name(_worst(level("discharge_pressure_psi"), level("suction_pressure_psi")))
        )
    )


def to_sensor_features(silver: DataFrame, compressors: DataFrame, config: AltavizConfig) -> DataFrame:
    """Silver readings → gold features (grain: compressor, timestamp), with the unit's station."""
    return (
        silver.drop("_record_id", "_source_file", "_ingest_run_id", "_silver_run_id")
        .join(F.broadcast(compressors.select("compressor_id", "station_id")), "compressor_id", "left")
        .transform(with_rolling_features)
        .transform(with_threshold_status, config)
        .transform(with_time_features)
    )


_STATUS_RANK = {"normal": 0, "warning": 1, "critical": 2}


def _status_rank(column: str) -> Column:
    return F.element_at(F.create_map(*[F.lit(x) for kv in _STATUS_RANK.items() for x in kv]), F.col(column))


def to_hourly_readings(features: DataFrame) -> DataFrame:
    """Features → one row per compressor and hour: means, extremes, worst status in the hour."""
    worst = {s: F.max(_status_rank(s)) for s in ("vibration_status", "temp_status", "pressure_status")}
    hourly = features.groupBy("compressor_id", F.date_trunc("hour", "timestamp").alias("hour_start")).agg(
        F.count(F.lit(1)).cast("int").alias("reading_count"),
        F.avg("vibration_mms").alias("vibration_mean"),
        F.max("vibration_mms").alias("vibration_max"),
        F.avg("discharge_temp_f").alias("discharge_temp_mean"),
        F.max("discharge_temp_f").alias("discharge_temp_max"),
        F.avg("suction_pressure_psi").alias("suction_pressure_mean"),
        F.min("suction_pressure_psi").alias("suction_pressure_min"),
        F.avg("discharge_pressure_psi").alias("discharge_pressure_mean"),
        F.max("discharge_pressure_psi").alias("discharge_pressure_max"),
        F.avg("pressure_differential").alias("pressure_differential_mean"),
        F.avg("horsepower").alias("horsepower_mean"),
        F.avg("gas_flow_mcf").alias("gas_flow_mean"),
        *[rank.alias(f"_{name}") for name, rank in worst.items()],
    )
    rounded = [
        F.round(c, 3).alias(c)
        for c in hourly.columns
        if c.endswith(("_mean", "_max", "_min")) and c not in ("compressor_id",)
    ]
    return hourly.select(
        "compressor_id",
        "hour_start",
        "reading_count",
        *rounded,
        level_name(F.col("_vibration_status")).alias("vibration_status"),
        level_name(F.col("_temp_status")).alias("temp_status"),
        level_name(F.col("_pressure_status")).alias("pressure_status"),
        level_name(F.greatest("_vibration_status", "_temp_status", "_pressure_status")).alias("health_status"),
    )
