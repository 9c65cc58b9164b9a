"""Threshold levels with hysteresis, and alert episodes built from them.

A level is 0 normal, 1 warning, 2 critical. It is a Schmitt trigger on the smoothed signal: it
rises when the signal reaches a limit and falls only once the signal is ``clear_margin_fraction``
of the limit back on the safe side. In Spark that is "the last set-or-reset event so far", a
``last(…, ignorenulls)`` window, so no Python loops run per reading.

Runs are incremental: a run computes levels from ``_level_from`` on, starting from the level the
unit's previous reading had (``_carried_<sensor>_level``), which is exactly what the unbroken
computation over all history gives, because "the last event so far" is either an event since
``_level_from`` or the last one before it — and that one is what the previous level holds. A
critical latch implies a warning latch (critical lies beyond warning, and so does its clear
point), so the one carried level restores both latches.

An episode is a run of non-normal levels for one compressor and sensor: it opens, may escalate
to critical and de-escalate, and clears at the first normal reading. Its id hashes compressor,
sensor and opening time, so reruns over the same history yield the same ids, and an episode still
open at the end of one day continues with the same id on the next.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.config import AlertRules, Predictions, Threshold
from altaviz.schemas import ALERT_SIGNALS, FAILURE_RISK, RUNNING_STATE, THRESHOLD_SOURCE, level_column

LEVEL_NAMES = {0: "normal", 1: "warning", 2: "critical"}


def level_name(level: Column) -> Column:
    return F.element_at(F.create_map(*[F.lit(x) for kv in LEVEL_NAMES.items() for x in kv]), level)


def by_unit_time() -> Window:
    """Each compressor's readings in time order (microseconds, so range frames can be exact).

    Every per-reading window in gold uses this one ordering, so Spark sorts the readings once."""
    return Window.partitionBy("compressor_id").orderBy(F.unix_micros("timestamp"))


def carried_level_column(sensor: str) -> str:
    return f"_carried_{level_column(sensor)}"


def _latched(
    signal: Column, limit: float, threshold: Threshold, margin: float, ordered: Window, active: Column, carried: Column
) -> Column:
    """1 while the limit is latched: set on reaching it, reset beyond limit ∓ margin·|limit| and by
    a stop (a stopped unit is not alarmed on process limits, and starts again unlatched). Rows that
    are not ``active`` (lookback context) raise no event; ``carried`` is the latch before."""
    clear_band = margin * abs(limit)
    stopped = F.when(~F.col("is_running"), 0)
    if threshold.direction == "high":
        event = stopped.when(signal >= limit, 1).when(signal < limit - clear_band, 0)
    else:
        event = stopped.when(signal <= limit, 1).when(signal > limit + clear_band, 0)
    return F.coalesce(F.last(F.when(active, event), ignorenulls=True).over(ordered), carried.cast("int"))


def with_sensor_levels(df: DataFrame, thresholds: dict[str, Threshold], rules: AlertRules) -> DataFrame:
    """Adds ``<sensor>_level`` (0/1/2) per alerting sensor from its smoothed signal, with hysteresis.

    In: compressor_id, timestamp, ``is_running``, the signal columns of ``ALERT_SIGNALS``,
    ``_level_from`` and the ``_carried_<sensor>_level`` columns (null: nothing carried). A sensor
    without a threshold is 0.
    """
    ordered = by_unit_time().rowsBetween(Window.unboundedPreceding, 0)
    active = F.col("timestamp") >= F.col("_level_from")
    for sensor, signal_column in ALERT_SIGNALS.items():
        threshold = thresholds.get(sensor)
        if threshold is None:
            df = df.withColumn(level_column(sensor), F.lit(0))
            continue
        carried = F.coalesce(F.col(carried_level_column(sensor)), F.lit(0))
        signal, margin = F.col(signal_column), rules.clear_margin_fraction
        warning = _latched(signal, threshold.warning, threshold, margin, ordered, active, carried >= 1)
        critical = _latched(signal, threshold.critical, threshold, margin, ordered, active, carried >= 2)
        df = df.withColumn(level_column(sensor), F.greatest(warning, critical * 2))
    return df


def episode_sensors(thresholds: dict[str, Threshold]) -> list[str]:
    """What episodes are opened on: every sensor with a limit, and the unit's running state."""
    return [*thresholds, RUNNING_STATE]


def to_sensor_levels_long(features: DataFrame, thresholds: dict[str, Threshold]) -> DataFrame:
    """The readings that make up alert episodes, one row per compressor, timestamp and alerting
    sensor: ``sensor``, ``signal``, ``level``, ``prev_level`` (the reading before), the limits.
    A stop is an episode of ``running_state`` at warning level (the trip itself is the event; the
    process limits are silent while the unit is down), its signal the horsepower.

    Only non-normal readings and the normal reading that clears each episode are kept: an episode
    is built from those alone, and a healthy fleet has almost none. One pass over ``features``: the
    sensors are unpivoted with an array of structs, not a union (which would sort it per sensor).
    """
    stop_level = level_column(RUNNING_STATE)
    with_stops = features.withColumn(stop_level, F.when(F.col("is_running"), 0).otherwise(1))
    previous = with_stops.select(
        "*",
        *[
            F.lag(level_column(s)).over(by_unit_time()).alias(f"_prev_{level_column(s)}")
            for s in (*thresholds, RUNNING_STATE)
        ],
    )
    per_sensor = [
        F.struct(
            F.lit(sensor).alias("sensor"),
            F.col(ALERT_SIGNALS[sensor]).alias("signal"),
            F.col(level_column(sensor)).alias("level"),
            F.coalesce(F.col(f"_prev_{level_column(sensor)}"), F.lit(0)).alias("prev_level"),
            F.lit(t.direction).alias("direction"),
            F.lit(float(t.warning)).alias("warning"),
            F.lit(float(t.critical)).alias("critical"),
        )
        for sensor, t in thresholds.items()
    ]
    per_sensor.append(
        F.struct(
            F.lit(RUNNING_STATE).alias("sensor"),
            F.col("horsepower").alias("signal"),
            F.col(stop_level).alias("level"),
            F.coalesce(F.col(f"_prev_{stop_level}"), F.lit(0)).alias("prev_level"),
            F.lit("low").alias("direction"),
            F.lit(0.0).alias("warning"),
            F.lit(0.0).alias("critical"),
        )
    )
    return previous.select("compressor_id", "timestamp", F.inline(F.array(*per_sensor))).filter(
        (F.col("level") > 0) | (F.col("prev_level") > 0)
    )


def to_model_levels(predictions: DataFrame, rules: Predictions) -> DataFrame:
    """The failure model's warnings as episode readings (the shape of ``to_sensor_levels_long``),
    sensor ``failure_risk``, one row per scored hour: a Schmitt trigger on the probability, like
    the threshold latches. It sets once the probability has been at or above ``warn_probability``
    for ``min_warning_hours`` scored hours in a row (one noisy hour opens nothing) and resets below
    ``clear_probability``; while set, the level is critical at ``critical_probability`` and above.

    In: gold_predictions rows (compressor_id, hour_start, failure_probability_72h). Start each unit
    at an hour below ``clear_probability`` (the latch is reset there whatever came before) or at its
    first prediction, so a slice gives what the unbroken history gives.
    """
    ordered = Window.partitionBy("compressor_id").orderBy("hour_start")
    run = ordered.rowsBetween(-(rules.min_warning_hours - 1), 0)
    probability = F.col("failure_probability_72h")
    sustained = (F.min(probability).over(run) >= rules.warn_probability) & (
        F.count(F.lit(1)).over(run) == rules.min_warning_hours
    )
    event = F.when(sustained, 1).when(probability < rules.clear_probability, 0)
    latched = F.coalesce(
        F.last(event, ignorenulls=True).over(ordered.rowsBetween(Window.unboundedPreceding, 0)), F.lit(0)
    )
    levels = predictions.select(
        "compressor_id",
        F.col("hour_start").alias("timestamp"),
        probability.alias("signal"),
        F.when(latched == 0, 0).when(probability >= rules.critical_probability, 2).otherwise(1).alias("level"),
    )
    return levels.select(
        "compressor_id",
        "timestamp",
        F.lit(FAILURE_RISK).alias("sensor"),
        "signal",
        "level",
        F.coalesce(F.lag("level").over(Window.partitionBy("compressor_id").orderBy("timestamp")), F.lit(0)).alias(
            "prev_level"
        ),
        F.lit("high").alias("direction"),
        F.lit(float(rules.warn_probability)).alias("warning"),
        F.lit(float(rules.critical_probability)).alias("critical"),
    ).filter((F.col("level") > 0) | (F.col("prev_level") > 0))


def to_model_episode_starts(predictions: DataFrame, scored_from: DataFrame, rules: Predictions) -> DataFrame:
    """Where each unit in ``scored_from`` (compressor_id, ``_score_from``: its first newly scored
    hour) must rebuild its model episodes: its last hour below ``clear_probability`` before
    ``_score_from`` (the latch is reset there, so what follows depends on nothing earlier), else its
    first prediction. Columns: compressor_id, sensor, ``_episode_from`` (``to_episode_changes``)."""
    before = F.col("hour_start") < F.col("_score_from")
    reset = before & (F.col("failure_probability_72h") < rules.clear_probability)
    return (
        predictions.join(F.broadcast(scored_from), "compressor_id")
        .groupBy("compressor_id")
        .agg(F.coalesce(F.max(F.when(reset, F.col("hour_start"))), F.min("hour_start")).alias("_episode_from"))
        .select("compressor_id", F.lit(FAILURE_RISK).alias("sensor"), "_episode_from")
    )


def to_alert_episodes(levels: DataFrame, source: str = THRESHOLD_SOURCE) -> DataFrame:
    """Collapses episode readings (``to_sensor_levels_long``, ``to_model_levels``) into episodes
    (grain: compressor, sensor, opening time), each naming its ``source``. An episode opens at a
    non-normal reading after a normal one and clears at the next normal reading; callers start
    ``levels`` at a normal reading or at the opening of the episode in progress.
    """
    ordered = Window.partitionBy("compressor_id", "sensor").orderBy("timestamp")
    marked = (
        levels.withColumn("_next_ts", F.lead("timestamp").over(ordered))
        .withColumn("_opens", ((F.col("level") > 0) & (F.col("prev_level") == 0)).cast("int"))
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
        alert_id("compressor_id", "sensor", "opened_at").alias("alert_id"),
        "compressor_id",
        "sensor",
        F.lit(source).alias("source"),
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


def alert_id(compressor: str, sensor: str, opened_at: str) -> Column:
    """The episode's id: the same compressor, sensor and opening time give the same id in every run."""
    opened = F.date_format(opened_at, "yyyy-MM-dd'T'HH:mm:ss")
    return F.substring(F.sha2(F.concat_ws("|", compressor, sensor, opened), 256), 1, 32)


def to_episode_starts(scope: DataFrame, episodes: DataFrame, sensors: list[str]) -> DataFrame:
    """Where each (compressor, sensor) in ``scope`` must restart its episodes: the opening of the
    episode still open at ``_level_from``, else ``_level_from`` itself. Columns: compressor_id,
    sensor, ``_episode_from``."""
    per_sensor = scope.select("compressor_id", "_level_from").crossJoin(
        scope.sparkSession.createDataFrame([(s,) for s in sensors], "sensor string")
    )
    open_at_start = (
        episodes.join(F.broadcast(scope.select("compressor_id", "_level_from")), "compressor_id")
        .filter(
            (F.col("opened_at") < F.col("_level_from"))
            & (F.col("cleared_at").isNull() | (F.col("cleared_at") >= F.col("_level_from")))
        )
        .groupBy("compressor_id", "sensor")
        .agg(F.min("opened_at").alias("_open_since"))
    )
    return per_sensor.join(open_at_start, ["compressor_id", "sensor"], "left").select(
        "compressor_id", "sensor", F.coalesce("_open_since", "_level_from").alias("_episode_from")
    )


def to_episode_changes(fresh: DataFrame, existing: DataFrame, starts: DataFrame) -> DataFrame:
    """``fresh`` episodes plus the ``existing`` ones they replace and no longer contain, marked for
    deletion (``_delete``): an existing episode of a restarted (compressor, sensor) that opened at
    or after its ``_episode_from`` but was not rebuilt (late data merged or split it)."""
    replaced = (
        existing.join(F.broadcast(starts), ["compressor_id", "sensor"])
        .filter(F.col("opened_at") >= F.col("_episode_from"))
        .drop("_episode_from")
        .join(fresh.select("alert_id"), "alert_id", "left_anti")
    )
    return fresh.withColumn("_delete", F.lit(False)).unionByName(replaced.withColumn("_delete", F.lit(True)))
