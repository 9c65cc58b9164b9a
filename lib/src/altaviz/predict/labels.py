"""Training labels from maintenance records (``silver_maintenance_events``), never from the
simulator's answer key: per running unit-hour, the hours to the unit's next failure work order
(capped) and whether it fails within the horizon.

Censoring: a unit-hour with no failure ahead is only known to be healthy for as long as the unit was
observed after it. If that is less than the horizon (or the cap, for RUL), its label is null and the
hour is left out of training rather than called healthy forever. A corrective repair ahead (a fault
found and fixed before it failed) censors the same way: nobody knows when that unit would have failed.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

FAILURE = "failure"
CORRECTIVE_REPAIR = "corrective_repair"
DOWN = "down"


def _hours_between(later: str, earlier: str) -> F.Column:
    return (F.col(later).cast("long") - F.col(earlier).cast("long")) / 3600.0


def running_hours(hourly: DataFrame, events: DataFrame) -> DataFrame:
    """The hourly rows of running units outside any work order's down window (a repair or a
    preventive stop: the unit is not in service, so there is nothing to predict)."""
    windows = events.select(
        "compressor_id",
        F.col("started_at").alias("_wo_start"),
        F.coalesce("ended_at", F.lit("9999-12-31").cast("timestamp")).alias("_wo_end"),
    )
    in_window = (
        hourly.select("compressor_id", "hour_start")
        .join(windows, "compressor_id")
        .filter((F.col("hour_start") >= F.date_trunc("hour", "_wo_start")) & (F.col("hour_start") < F.col("_wo_end")))
        .select("compressor_id", "hour_start")
        .distinct()
    )
    return hourly.filter(F.col("health_status") != DOWN).join(in_window, ["compressor_id", "hour_start"], "left_anti")


def _next_event(hours: DataFrame, events: DataFrame, event_type: str, name: str) -> DataFrame:
    """Adds ``name``: the start of the unit's first ``event_type`` work order after the hour starts."""
    starts = events.filter(F.col("event_type") == event_type).select(
        "compressor_id", F.col("started_at").alias("_event_at")
    )
    ahead = (
        hours.select("compressor_id", "hour_start")
        .join(starts, "compressor_id")
        .filter(F.col("_event_at") > F.col("hour_start"))
        .groupBy("compressor_id", "hour_start")
        .agg(F.min("_event_at").alias(name))
    )
    return hours.join(ahead, ["compressor_id", "hour_start"], "left")


def to_labels(hourly: DataFrame, events: DataFrame, *, horizon_hours: float, rul_cap_hours: float) -> DataFrame:
    """Per running unit-hour of ``hourly`` (gold_hourly_readings): ``rul_hours`` (hours from the
    hour's start to the next failure, capped at ``rul_cap_hours``), ``fails_within_horizon`` and
    ``is_censored``. ``observed_until`` is the end of the unit's last hour in ``hourly``."""
    hours = running_hours(hourly, events).select("compressor_id", "hour_start")
    observed = hourly.groupBy("compressor_id").agg(
        (F.max("hour_start") + F.expr("INTERVAL 1 HOUR")).alias("observed_until")
    )
    frame = (
        hours.join(observed, "compressor_id")
        .transform(_next_event, events, FAILURE, "next_failure_at")
        .transform(_next_event, events, CORRECTIVE_REPAIR, "_next_repair_at")
    )
    to_failure = _hours_between("next_failure_at", "hour_start")
    seen_after = _hours_between("observed_until", "hour_start")
    # A repair before the failure ends what the record can tell about this hour.
    known_until = F.coalesce(F.least("_next_repair_at", "next_failure_at"), F.col("observed_until"))
    known_after = (known_until.cast("long") - F.col("hour_start").cast("long")) / 3600.0
    repair_first = F.col("_next_repair_at").isNotNull() & (
        F.col("next_failure_at").isNull() | (F.col("_next_repair_at") < F.col("next_failure_at"))
    )
    failure_known = F.col("next_failure_at").isNotNull() & ~repair_first
    fails = (
        F.when(failure_known & (to_failure <= horizon_hours), True)
        .when(F.least(known_after, seen_after) >= horizon_hours, False)
        .otherwise(None)
    )
    rul = (
        F.when(failure_known, F.least(to_failure, F.lit(float(rul_cap_hours))))
        .when(F.least(known_after, seen_after) >= rul_cap_hours, F.lit(float(rul_cap_hours)))
        .otherwise(None)
    )
    return (
        frame.withColumn("fails_within_horizon", fails)
        .withColumn("rul_hours", rul.cast("double"))
        .withColumn("is_censored", F.col("fails_within_horizon").isNull() | F.col("rul_hours").isNull())
        .drop("_next_repair_at")
    )
