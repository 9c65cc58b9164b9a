"""Gold: rolling features, threshold statuses, hourly aggregates — recomputed per run only where
new readings landed.

Feature names follow the original Altaviz (vibration_1hr_mean, temp_4hr_mean, …). Windows are
time ranges over each compressor's own readings, so gaps in reporting shrink a window rather
than stretching it over older data.

A run works on a *scope*: per compressor, ``_level_from`` (the hour its first new reading falls in)
and the levels its previous reading had. It reads silver from ``_level_from`` minus the widest
window (``LOOKBACK``), computes features there, and keeps the rows from ``_level_from`` on, which
are then identical to what one computation over all of history gives.
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.alerts import by_unit_time, carried_level_column, level_name, with_sensor_levels
from altaviz.config import AltavizConfig
from altaviz.schemas import ALERT_SIGNALS, GOLD_HOURLY_READINGS, GOLD_SENSOR_FEATURES, level_column

HOUR = 3600
# The widest feature window (pressure_24hr_mean): how far back a run must read.
LOOKBACK = timedelta(hours=24)
# Window means are exact: values are summed as integer micro-units, so a mean over a window is the
# same number whichever earlier readings a run happened to read (and needs O(1) work per reading).
_MICRO = 1_000_000
# Window frames are ranges over unix microseconds.
_US_PER_S = 1_000_000


def _upto(offset_micros: int) -> Window:
    """This compressor's readings from its first one up to ``offset_micros`` from now (inclusive)."""
    return by_unit_time().rangeBetween(Window.unboundedPreceding, offset_micros)


# Feature → (sensor, trailing window in seconds).
TRAILING_MEANS = {
    "vibration_1hr_mean": ("vibration_mms", HOUR),
    "temp_1hr_mean": ("discharge_temp_f", HOUR),
    "temp_4hr_mean": ("discharge_temp_f", 4 * HOUR),
    "discharge_pressure_1hr_mean": ("discharge_pressure_psi", HOUR),
    "suction_pressure_1hr_mean": ("suction_pressure_psi", HOUR),
    "pressure_24hr_mean": ("discharge_pressure_psi", 24 * HOUR),
}


def with_trailing_means(df: DataFrame, means: dict[str, tuple[str, int]]) -> DataFrame:
    """Adds each mean of ``means`` (feature → (column, seconds)): the column's mean over the same
    compressor's readings in the seconds up to and including this one.

    Computed as the difference of two running sums (all readings so far, minus those older than the
    window): O(n), where a sliding window re-adds every reading in it for every reading. Sums are in
    integer micro-units, so a mean is the same number whichever earlier readings a run happened to
    read. In: compressor_id, timestamp, the columns (no nulls: silver has none). Grain unchanged.
    """
    running = _with_micro_units(df, means).select("*", *_running_sums(means))
    return running.select(*df.columns, *_trailing_means(means))


def with_change_over(df: DataFrame, column: str, seconds: int, name: str) -> DataFrame:
    """Adds ``name``: now minus the oldest reading at most ``seconds`` old — the reading after the
    last one older than that (or the compressor's first reading when there is none)."""
    following = df.select("*", *_change_over_inputs(column))
    return following.select(*df.columns, _change_over(column, seconds).alias(name))


def _with_micro_units(df: DataFrame, means: dict[str, tuple[str, int]]) -> DataFrame:
    columns = sorted({c for c, _ in means.values()})
    return df.select("*", *[F.rint(F.col(c) * _MICRO).cast("long").alias(f"_micro_{c}") for c in columns])


def _running_sums(means: dict[str, tuple[str, int]]) -> list[Column]:
    """Each running sum and count the means need, once (a window expression written twice is
    computed twice)."""
    columns = sorted({c for c, _ in means.values()})
    windows = sorted({w for _, w in means.values()})
    # Readings at least w old: the window is (now - w, now].
    sums = [F.count(F.lit(1)).over(_upto(0)).alias("_n_now")]
    sums += [F.sum(f"_micro_{c}").over(_upto(0)).alias(f"_sum_now_{c}") for c in columns]
    sums += [F.count(F.lit(1)).over(_upto(-w * _US_PER_S)).alias(f"_n_{w}") for w in windows]
    sums += [
        F.sum(f"_micro_{c}").over(_upto(-w * _US_PER_S)).alias(f"_sum_{w}_{c}") for c, w in sorted(set(means.values()))
    ]
    return sums


def _trailing_means(means: dict[str, tuple[str, int]]) -> list[Column]:
    return [
        (
            (F.col(f"_sum_now_{c}") - F.coalesce(F.col(f"_sum_{w}_{c}"), F.lit(0))).cast("double")
            / ((F.col("_n_now") - F.col(f"_n_{w}")) * _MICRO).cast("double")
        ).alias(name)
        for name, (c, w) in means.items()
    ]


def _change_over_inputs(column: str) -> list[Column]:
    return [
        F.lead(column).over(by_unit_time()).alias(f"_following_{column}"),
        F.first(column).over(_upto(0)).alias(f"_first_{column}"),
    ]


def _change_over(column: str, seconds: int) -> Column:
    # The reading after the last one more than ``seconds`` old: the oldest in [now - seconds, now].
    last_outside = F.last(f"_following_{column}").over(_upto(-(seconds * _US_PER_S + 1)))
    oldest_inside = F.coalesce(last_outside, F.col(f"_first_{column}"))
    return F.col(column) - oldest_inside


def with_rolling_features(df: DataFrame) -> DataFrame:
    """Adds trailing means, the 1-hour temperature change and the pressure differential.

    In: compressor_id, timestamp, sensor columns. Grain unchanged (one row per reading). Two window
    passes over one sort: running sums first, then the differences that need them.
    """
    running = _with_micro_units(df, TRAILING_MEANS).select(
        "*", *_running_sums(TRAILING_MEANS), *_change_over_inputs("discharge_temp_f")
    )
    return running.select(
        *df.columns,
        *_trailing_means(TRAILING_MEANS),
        # Change over the last hour: now minus the oldest reading inside the hour (°F per hour).
        _change_over("discharge_temp_f", HOUR).alias("temp_1hr_delta"),
        (F.col("discharge_pressure_psi") - F.col("suction_pressure_psi")).alias("pressure_differential"),
    )


def with_time_features(df: DataFrame) -> DataFrame:
    """Adds hour_of_day (0–23, UTC), day_of_week (ISO, Monday = 1), is_weekend and reading_date."""
    iso_day = (F.dayofweek("timestamp") + 5) % 7 + 1
    return (
        df.withColumn("hour_of_day", F.hour("timestamp"))
        .withColumn("day_of_week", iso_day)
        .withColumn("is_weekend", iso_day >= 6)
        .withColumn("reading_date", F.to_date("timestamp"))
    )


def with_threshold_status(df: DataFrame, config: AltavizConfig) -> DataFrame:
    """Adds per-sensor levels (with hysteresis) and vibration_status, temp_status, pressure_status."""
    levelled = with_sensor_levels(df, config.thresholds, config.alerts)
    level = lambda sensor: F.col(level_column(sensor))  # noqa: E731
    return (
        levelled.withColumn("vibration_status", level_name(level("vibration_mms")))
        .withColumn("temp_status", level_name(level("discharge_temp_f")))
        .withColumn(
            "pressure_status", level_name(F.greatest(level("discharge_pressure_psi"), level("suction_pressure_psi")))
        )
    )


def to_full_scope(silver: DataFrame) -> DataFrame:
    """The scope of a computation over everything given: each compressor from its first reading,
    with nothing carried."""
    return silver.groupBy("compressor_id").agg(
        F.min("timestamp").alias("_level_from"),
        *[F.lit(None).cast("int").alias(carried_level_column(s)) for s in ALERT_SIGNALS],
    )


def with_running_state(df: DataFrame, running_min_load_fraction: float) -> DataFrame:
    """Adds ``is_running``: horsepower at or above ``running_min_load_fraction`` of the unit's
    ``rated_horsepower`` (any power at all when the rating is unknown)."""
    limit = F.coalesce(F.col("rated_horsepower") * running_min_load_fraction, F.lit(0.0))
    return df.withColumn("is_running", (F.col("horsepower") >= limit) & (F.col("horsepower") > 0))


def to_sensor_features(
    silver: DataFrame, compressors: DataFrame, config: AltavizConfig, scope: DataFrame | None = None
) -> DataFrame:
    """Silver readings → gold features (grain: compressor, timestamp), with the unit's station.

    ``scope`` (compressor_id, ``_level_from``, ``_carried_<sensor>_level``): rows before
    ``_level_from`` serve as window context only and are not returned; compressors outside the scope
    are left out. Default: every compressor in ``silver`` from its first reading.
    """
    scope = scope if scope is not None else to_full_scope(silver)
    return (
        silver.select("compressor_id", "timestamp", *[f.name for f in GOLD_SENSOR_FEATURES.fields[2:8]])
        .join(F.broadcast(scope), "compressor_id")
        .join(
            F.broadcast(compressors.select("compressor_id", "station_id", "rated_horsepower")), "compressor_id", "left"
        )
        .transform(with_running_state, config.alerts.running_min_load_fraction)
        .transform(with_rolling_features)
        .transform(with_threshold_status, config)
        .filter(F.col("timestamp") >= F.col("_level_from"))
        .transform(with_time_features)
        .select(*GOLD_SENSOR_FEATURES.fieldNames())
    )


def to_hourly_readings(features: DataFrame) -> DataFrame:
    """Features → one row per compressor and hour: means, extremes, worst status in the hour; the
    health is ``down`` when the hour's last reading found the unit stopped."""
    level = lambda sensor: F.col(level_column(sensor))  # noqa: E731
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
        F.max(level("vibration_mms")).alias("_vibration"),
        F.max(level("discharge_temp_f")).alias("_temp"),
        F.max(F.greatest(level("discharge_pressure_psi"), level("suction_pressure_psi"))).alias("_pressure"),
        F.max_by("is_running", "timestamp").alias("_running_at_end"),
    )
    measures = [f.name for f in GOLD_HOURLY_READINGS.fields if f.name.endswith(("_mean", "_max", "_min"))]
    return hourly.select(
        "compressor_id",
        "hour_start",
        "reading_count",
        *[F.round(c, 3).alias(c) for c in measures],
        level_name(F.col("_vibration")).alias("vibration_status"),
        level_name(F.col("_temp")).alias("temp_status"),
        level_name(F.col("_pressure")).alias("pressure_status"),
        F.when(~F.col("_running_at_end"), F.lit("down"))
        .otherwise(level_name(F.greatest("_vibration", "_temp", "_pressure")))
        .alias("health_status"),
        F.to_date("hour_start").alias("reading_date"),
    )
