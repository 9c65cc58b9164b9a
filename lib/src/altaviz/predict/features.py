"""Model features from ``gold_hourly_readings``, computed in Spark per running unit-hour.

Degradation shows as a drift away from how *this* unit normally runs, and as a trend: each signal
gets its recent level (6 h), its deviation from the unit's own healthy baseline, and its slopes over
24 h and 7 days. Stopped hours are left out of every window: a trip's zeros are not a trend.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.predict.labels import DOWN

# psia = psig + atmospheric: compression ratio is a ratio of absolute pressures.
ATMOSPHERIC_PSI = 14.7

# The signals, as columns of gold_hourly_readings plus two derived ones.
SIGNALS = (
    "vibration_mean",
    "vibration_max",
    "discharge_temp_mean",
    "suction_pressure_mean",
    "discharge_pressure_mean",
    "horsepower_mean",
    "gas_flow_mean",
    "pressure_ratio",
    "hp_per_flow",
)
STATUS_LEVELS = {"normal": 0, "warning": 1, "critical": 2}
STATUS_COLUMNS = ("vibration_status", "temp_status", "pressure_status")
WINDOWS = {"6h": 6, "24h": 24, "7d": 24 * 7}


def _trend_columns(signal: str) -> list[str]:
    return [f"{signal}_6h", f"{signal}_dev", f"{signal}_dev_24h", f"{signal}_slope_24h", f"{signal}_slope_7d"]


FEATURE_COLUMNS = (
    *[c for s in SIGNALS for c in _trend_columns(s)],
    "vibration_std_24h",
    "load_vs_baseline",
    "hours_running_7d",
    *[f"{c}_level" for c in STATUS_COLUMNS],
    "hour_of_day",
)


def with_derived_signals(hourly: DataFrame) -> DataFrame:
    """Compression ratio and horsepower per unit of flow: worn rings lose flow at the same power,
    a leaking valve disturbs the ratio."""
    ratio = (F.col("discharge_pressure_mean") + ATMOSPHERIC_PSI) / (F.col("suction_pressure_mean") + ATMOSPHERIC_PSI)
    return hourly.withColumn("pressure_ratio", ratio).withColumn(
        "hp_per_flow", F.col("horsepower_mean") / F.nullif(F.col("gas_flow_mean"), F.lit(0.0)) * 1000.0
    )


def running(hourly: DataFrame) -> DataFrame:
    return hourly.filter(F.col("health_status") != DOWN)


def unit_baselines(hours: DataFrame, baseline_days: float) -> DataFrame:
    """Per unit: the median of each signal over its first ``baseline_days`` of running hours,
    taken as how this unit runs when healthy, and ``baseline_until``, the end of that span. Hours
    before it get no deviation: the baseline is not known yet then, and a partial one would make a
    daily run's features differ from a long run's."""
    first = hours.groupBy("compressor_id").agg(F.min("hour_start").alias("_first_hour"))
    span = F.expr(f"INTERVAL {int(baseline_days * 86400)} SECONDS")
    return (
        hours.join(first, "compressor_id")
        .filter(F.col("hour_start") < F.col("_first_hour") + span)
        .groupBy("compressor_id")
        .agg(
            (F.first("_first_hour") + span).alias("baseline_until"),
            *[F.median(s).alias(f"{s}_baseline") for s in SIGNALS],
        )
    )


def _window(hours: int) -> Window:
    # Range over epoch seconds: a window is a span of time, whatever hours are missing in it.
    return (
        Window.partitionBy("compressor_id")
        .orderBy(F.col("hour_start").cast("long"))
        .rangeBetween(-(hours * 3600 - 1), 0)
    )


def _slope(signal: str, hours: int) -> Column:
    """Least-squares slope of the signal per hour over the trailing window."""
    t = F.col("hour_start").cast("long") / 3600.0
    return F.covar_samp(t, F.col(signal)).over(_window(hours)) / F.nullif(
        F.var_samp(t).over(_window(hours)), F.lit(0.0)
    )


def _known_baseline(signal: str) -> Column:
    return F.when(F.col("hour_start") >= F.col("baseline_until"), F.col(f"{signal}_baseline"))


def to_features(hourly: DataFrame, baselines: DataFrame) -> DataFrame:
    """Per running unit-hour of ``hourly``: ``FEATURE_COLUMNS`` (plus the key). ``baselines`` comes
    from ``unit_baselines``; a unit without one (too new) gets null deviations, which the model handles."""
    hours = running(with_derived_signals(hourly)).join(F.broadcast(baselines), "compressor_id", "left")
    columns = [F.col("compressor_id"), F.col("hour_start")]
    for s in SIGNALS:
        recent = F.avg(s).over(_window(WINDOWS["6h"]))
        day = F.avg(s).over(_window(WINDOWS["24h"]))
        base = _known_baseline(s)
        columns += [
            recent.alias(f"{s}_6h"),
            (recent - base).alias(f"{s}_dev"),
            (day - base).alias(f"{s}_dev_24h"),
            _slope(s, WINDOWS["24h"]).alias(f"{s}_slope_24h"),
            _slope(s, WINDOWS["7d"]).alias(f"{s}_slope_7d"),
        ]
    columns += [
        F.stddev_samp("vibration_mean").over(_window(WINDOWS["24h"])).alias("vibration_std_24h"),
        (F.avg("horsepower_mean").over(_window(WINDOWS["6h"])) / _known_baseline("horsepower_mean")).alias(
            "load_vs_baseline"
        ),
        F.count(F.lit(1)).over(_window(WINDOWS["7d"])).cast("double").alias("hours_running_7d"),
        *[_status_level(c).alias(f"{c}_level") for c in STATUS_COLUMNS],
        F.hour("hour_start").cast("double").alias("hour_of_day"),
    ]
    return hours.select(*columns)


def _status_level(column: str) -> Column:
    level = F.lit(None).cast("double")
    for name, value in STATUS_LEVELS.items():
        level = F.when(F.col(column) == name, float(value)).otherwise(level)
    return level
