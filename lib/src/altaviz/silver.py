"""Silver: typed, validated, deduplicated readings; every failing row kept in quarantine with its rules.

Each bronze row ends in exactly one place: silver, quarantine with the list of rules it failed, or
(for a reading whose next reading has not arrived yet) pending until the next batch judges it.
Every rule looks only at earlier data and the next reading, so the same readings are judged the
same whether they arrive in one batch or in thirty.

The judgement works on one frame, the *pool*: the new rows and the readings judged before them
(history), partitioned by compressor and sorted once by hour and time. Duplicates, neighbours and
the trailing statistics of the spike check are all windows over that one order, so a fleet-month
is shuffled and sorted once, and no per-reading result is joined back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from altaviz.config import SENSOR_COLUMNS, Validation
from altaviz.schemas import BRONZE_SENSOR_READINGS, SILVER_QUARANTINE_READINGS, SILVER_SENSOR_READINGS

KEY = ("compressor_id", "timestamp")
ROW_RULES = ("unparseable_value", "missing_value", "out_of_range", "unknown_compressor", "future_timestamp")
RULES = (*ROW_RULES, "duplicate_reading", "conflicting_duplicate", "outlier_4sigma", "stuck_sensor")
# Rules a reading can fail while still being a reading of its unit at its time: such a reading
# stays in the pool's sequence (as a neighbour, and for runs of repeated values) when judged later.
SEQUENCE_RULES = ("outlier_4sigma", "stuck_sensor")
# Not a rule a row fails: the readings missing in gaps the run found (count in silver_rule_counts).
GAP_COUNT = "reading_gap"
# What the judgement carries per row; the rest of a bronze row is looked up by _record_id at the end.
JUDGED_COLUMNS = (*KEY, *SENSOR_COLUMNS, "_record_id", "_ingested_at")
_MICRO = 1_000_000


def _flag(rule: str) -> str:
    return f"_fails_{rule}"


def with_row_rule_flags(
    df: DataFrame, known_compressors: DataFrame, validation: Validation, now: datetime
) -> DataFrame:
    """Adds one boolean per row-level rule: values the landed file held that were not numbers or
    times (``_unparsed_values``, from bronze), missing values (null or NaN), physical ranges (±Inf is
    out of range), unknown unit, future time."""
    known = known_compressors.select("compressor_id", F.lit(True).alias("_is_known"))
    out_of_range = [
        ~F.isnan(s) & ((F.col(s) < validation.ranges[s].min) | (F.col(s) > validation.ranges[s].max))
        for s in SENSOR_COLUMNS
    ]
    unparsed = F.col("_unparsed_values").isNotNull() if "_unparsed_values" in df.columns else F.lit(False)
    missing = [F.col(c).isNull() for c in KEY] + [F.col(s).isNull() | F.isnan(s) for s in SENSOR_COLUMNS]
    latest_allowed = now + timedelta(minutes=validation.future_tolerance_minutes)
    return (
        df.join(F.broadcast(known), "compressor_id", "left")
        .withColumn(_flag("unparseable_value"), unparsed)
        .withColumn(_flag("missing_value"), _any(missing))
        .withColumn(_flag("out_of_range"), F.coalesce(_any(out_of_range), F.lit(False)))
        .withColumn(_flag("unknown_compressor"), F.col("compressor_id").isNotNull() & F.col("_is_known").isNull())
        .withColumn(_flag("future_timestamp"), F.coalesce(F.col("timestamp") > F.lit(latest_allowed), F.lit(False)))
        .drop("_is_known")
    )


def to_judgement_pool(flagged: DataFrame, history: DataFrame) -> DataFrame:
    """New rows (with their row-rule flags) and ``history`` (readings judged before, which passed
    every rule) in one frame, partitioned by compressor and sorted in the pool's order.

    Adds ``_is_new``, ``_passes`` (the row rules), ``_hour`` (hours since 1970) and ``_us`` (microseconds).
    """
    flags = [_flag(r) for r in ROW_RULES]
    new = flagged.select(*JUDGED_COLUMNS, *flags, F.lit(True).alias("_is_new"))
    old = history.select(
        *KEY,
        *SENSOR_COLUMNS,
        "_record_id",
        F.lit(None).cast("timestamp").alias("_ingested_at"),
        *[F.lit(False).alias(f) for f in flags],
        F.lit(False).alias("_is_new"),
    )
    return (
        new.unionByName(old)
        .withColumn("_passes", ~_any([F.col(f) for f in flags]))
        .withColumn("_us", F.unix_micros("timestamp"))
        .withColumn("_hour", F.floor(F.unix_seconds("timestamp") / 3600))
        .repartition("compressor_id")
        .sortWithinPartitions("compressor_id", *_pool_order())
    )


def _pool_order() -> list[Column]:
    """The pool's order: hour, time, then how copies of one key compete — what was judged before
    first, then a copy that passes the row rules, then the first ingested."""
    return [F.col(c) for c in ("_hour", "_us", "_is_new")] + [
        F.col("_passes").desc(),
        F.col("_ingested_at"),
        F.col("_record_id"),
    ]


def _in_pool_order() -> Window:
    return Window.partitionBy("compressor_id").orderBy(*_pool_order())


def with_duplicate_flag(pool: DataFrame) -> DataFrame:
    """Flags every copy of a key after the first that passes the row rules, including a new row
    whose key was judged before (rule ``duplicate_reading``), and a new copy whose values differ
    from a neighbouring copy of its key (rule ``conflicting_duplicate``: two different readings of
    one unit at one time — e.g. a gateway tagging another unit's reading with this unit's id —
    cannot both be true, and neither is trusted; a reading already in silver stays). Adds
    ``_is_rejudged`` for a new row that *is* a row judged before (the same record, replayed after
    a crash) and must be left out.

    Only rows passing the row rules compete for a key, so a broken row never displaces a good one.
    """
    ordered = _in_pool_order()
    values = F.xxhash64(*[F.col(c) for c in SENSOR_COLUMNS])
    previous = F.lag("_us").over(ordered)
    same_key_before = F.coalesce(previous == F.col("_us"), F.lit(False))
    same_key_after = F.coalesce(F.lead("_us").over(ordered) == F.col("_us"), F.lit(False))
    differs_before = (
        same_key_before & F.lag("_passes").over(ordered) & (F.lag("_values").over(ordered) != F.col("_values"))
    )
    differs_after = (
        same_key_after & F.lead("_passes").over(ordered) & (F.lead("_values").over(ordered) != F.col("_values"))
    )
    conflicting = F.col("_is_new") & F.col("_passes") & F.coalesce(differs_before | differs_after, F.lit(False))
    return (
        pool.withColumn("_values", values)
        .withColumn(_flag("conflicting_duplicate"), conflicting)
        .withColumn(
            _flag("duplicate_reading"),
            F.col("_is_new") & F.col("_passes") & same_key_before & ~F.col(_flag("conflicting_duplicate")),
        )
        .withColumn(
            "_is_rejudged",
            F.col("_is_new")
            & same_key_before
            & F.coalesce(F.lag("_record_id").over(_in_pool_order()) == F.col("_record_id"), F.lit(False)),
        )
    )


def _is_eligible() -> Column:
    """A reading the sequence checks (spike, stuck value) may use: it passes the row rules and is
    no duplicate."""
    return F.col("_passes") & ~F.col(_flag("duplicate_reading")) & ~F.col(_flag("conflicting_duplicate"))


def with_stuck_flag(eligible: DataFrame, validation: Validation) -> DataFrame:
    """Flags a reading (rule ``stuck_sensor``) whose value of some sensor equals, exactly, that
    sensor's value in the unit's ``stuck_readings - 1`` readings before it: a live transmitter's
    noise never repeats three decimals that long. Zero is exempt (a stopped unit's flow and power
    read zero). Backward-looking only, so a run cut across batches is judged the same."""
    ordered = _in_pool_order()
    lags = range(1, validation.stuck_readings)
    stuck = [(F.col(s) != 0) & _all([F.lag(s, k).over(ordered) == F.col(s) for k in lags]) for s in SENSOR_COLUMNS]
    return eligible.withColumn(_flag("stuck_sensor"), F.coalesce(_any(stuck), F.lit(False)))


def with_outlier_flag(eligible: DataFrame, validation: Validation) -> DataFrame:
    """Over the eligible rows of the pool: flags spikes (rule ``outlier_4sigma``) and marks each
    unit's newest reading (``_is_last``: no later one in the pool).

    A spike departs from its sensor's trailing mean and from both neighbouring readings of its unit,
    in the same direction, by more than ``outlier_sigma`` standard deviations of that sensor over the
    ``outlier_stats_hours`` complete hours before its own. A step (a trip, a setpoint change) or a
    ramp (degradation) departs from one neighbour only, so it is never a spike. A neighbour further
    than ``outlier_neighbour_gap_minutes`` away does not count.

    The statistics are running sums by hour: counts and sums in exact integer micro-units, sums of
    squares in doubles, so the cost is one pass over the sorted pool.
    """
    by_hour = Window.partitionBy("compressor_id").orderBy("_hour")
    before_hour = by_hour.rangeBetween(Window.unboundedPreceding, -1)
    before_window = by_hour.rangeBetween(Window.unboundedPreceding, -(validation.outlier_stats_hours + 1))
    ordered = _in_pool_order()

    # Every window aggregate once, as a column (Spark evaluates a repeated window expression again
    # for each repetition); the statistics and tests below are plain arithmetic on these columns.
    windows = [
        F.count(F.lit(1)).over(before_hour).alias("_n_upto"),
        F.count(F.lit(1)).over(before_window).alias("_n_before"),
        F.lag("_us").over(ordered).alias("_prev_us"),
        F.lead("_us").over(ordered).alias("_next_us"),
    ]
    for s in SENSOR_COLUMNS:
        micro, square = F.rint(F.col(s) * _MICRO).cast("long"), F.col(s) * F.col(s)
        windows += [
            F.sum(micro).over(before_hour).alias(f"_sum_upto_{s}"),
            F.sum(micro).over(before_window).alias(f"_sum_before_{s}"),
            F.sum(square).over(before_hour).alias(f"_sq_upto_{s}"),
            F.sum(square).over(before_window).alias(f"_sq_before_{s}"),
            F.lag(s).over(ordered).alias(f"_prev_{s}"),
            F.lead(s).over(ordered).alias(f"_next_{s}"),
        ]
    aggregated = eligible.select("*", *windows)

    n = F.col("_n_upto") - F.col("_n_before")
    gap = _gap_us(validation)
    has_neighbours = (F.col("_us") - F.col("_prev_us") <= gap) & (F.col("_next_us") - F.col("_us") <= gap)
    k = validation.outlier_sigma
    departures = []
    for s in SENSOR_COLUMNS:
        x = F.col(s)
        total = (F.col(f"_sum_upto_{s}") - F.coalesce(F.col(f"_sum_before_{s}"), F.lit(0))).cast("double")
        squares = F.col(f"_sq_upto_{s}") - F.coalesce(F.col(f"_sq_before_{s}"), F.lit(0.0))
        mean = F.when(n > 0, total / (n * _MICRO).cast("double"))
        variance = F.when(n > 0, squares / n.cast("double")) - mean * mean
        band = k * F.sqrt(F.greatest(variance, F.lit(0.0)))
        off_mean, off_prev, off_next = x - mean, x - F.col(f"_prev_{s}"), x - F.col(f"_next_{s}")
        above = (off_mean > band) & (off_prev > band) & (off_next > band)
        below = (off_mean < -band) & (off_prev < -band) & (off_next < -band)
        departures.append((band > 0) & (above | below))
    spike = (n >= validation.outlier_min_readings) & F.coalesce(has_neighbours & _any(departures), F.lit(False))
    return aggregated.select(
        *eligible.columns,
        spike.alias(_flag("outlier_4sigma")),
        F.col("_next_us").isNull().alias("_is_last"),
        F.col("_prev_us"),
    )


def with_gap_count(scored: DataFrame, interval_minutes: float) -> DataFrame:
    """Adds ``_missing_before``: how many readings are missing between a reading and the unit's
    previous one (a gap wider than 1.5 reporting intervals), counted at the reading after the gap."""
    interval_us = interval_minutes * 60 * _MICRO
    delta = F.col("_us") - F.col("_prev_us")
    missing = F.when(delta > 1.5 * interval_us, F.round(delta / interval_us).cast("long") - 1)
    return scored.withColumn("_missing_before", F.coalesce(missing, F.lit(0).cast("long"))).drop("_prev_us")


def _gap_us(validation: Validation) -> int:
    return int(validation.outlier_neighbour_gap_minutes * 60 * _MICRO)


def with_pending_flag(judged: DataFrame, newest: DataFrame, validation: Validation) -> DataFrame:
    """Adds ``_is_pending``: a unit's newest eligible reading waits for its successor while the
    fleet's newest reading (``newest``: one row, ``_fleet_newest`` in microseconds) is within
    ``outlier_neighbour_gap_minutes`` of it; a unit that has gone quiet for longer is judged
    without one."""
    waiting = F.col("_is_last") & (F.col("_fleet_newest") - F.col("_us") <= _gap_us(validation))
    return (
        judged.crossJoin(F.broadcast(newest))
        .withColumn("_is_pending", F.coalesce(waiting, F.lit(False)))
        .drop("_fleet_newest", "_is_last")
    )


def to_fleet_newest(flagged: DataFrame, history: DataFrame) -> DataFrame:
    """The newest reading of the fleet that passes the row rules (a duplicate shares its original's
    time, so this is the newest eligible reading), in microseconds, as one row."""
    passing = flagged.filter(~_any([F.col(_flag(r)) for r in ROW_RULES])).select("timestamp")
    return passing.unionByName(history.select("timestamp")).agg(
        F.max(F.unix_micros("timestamp")).alias("_fleet_newest")
    )


def judge_readings(
    candidates: DataFrame,
    known_compressors: DataFrame,
    history: DataFrame,
    validation: Validation,
    now: datetime,
    interval_minutes: float,
) -> DataFrame:
    """Bronze rows → their verdicts: ``JUDGED_COLUMNS`` with ``failed_rules``, ``_is_pending`` and
    ``_missing_before``, every rule in order. Rows judged before (a batch replayed after a crash)
    are left out.

    ``history``: readings judged before around the candidates (silver, and readings quarantined by
    ``SEQUENCE_RULES`` only) with their ``_record_id``: the keys a candidate duplicates, and the
    sequence the spike, stuck-value and gap checks look along.
    """
    flagged = candidates.transform(with_row_rule_flags, known_compressors, validation, now)
    pool = to_judgement_pool(flagged, history).transform(with_duplicate_flag)
    scored = (
        pool.filter(_is_eligible())
        .transform(with_stuck_flag, validation)
        .transform(with_outlier_flag, validation)
        .transform(with_gap_count, interval_minutes)
    )
    rejected = pool.filter(~_is_eligible()).select(
        "*",
        F.lit(False).alias(_flag("stuck_sensor")),
        F.lit(False).alias(_flag("outlier_4sigma")),
        F.lit(False).alias("_is_last"),
        F.lit(0).cast("long").alias("_missing_before"),
    )
    return (
        scored.unionByName(rejected)
        .transform(with_pending_flag, to_fleet_newest(flagged, history), validation)
        .filter(F.col("_is_new") & ~F.col("_is_rejudged"))
        # A reading that waits is judged whole with the next batch (the same history, the same verdict).
        .withColumn(_flag("stuck_sensor"), F.col(_flag("stuck_sensor")) & ~F.col("_is_pending"))
        .transform(with_failed_rules)
        .select(*JUDGED_COLUMNS, "failed_rules", "_is_pending", "_missing_before")
    )


def with_failed_rules(df: DataFrame) -> DataFrame:
    """Adds ``failed_rules``: the names of the rules a row failed, in rule order (empty when valid)."""
    names = [F.when(F.col(_flag(r)), F.lit(r)) for r in RULES]
    return df.withColumn("failed_rules", F.array_compact(F.array(*names))).drop(*[_flag(r) for r in RULES])


def filter_valid_readings(judged: DataFrame, run_id: str) -> DataFrame:
    """Rows that failed no rule and wait for nothing, in the silver schema."""
    return (
        judged.filter((F.size("failed_rules") == 0) & ~F.col("_is_pending"))
        .withColumn("_silver_run_id", F.lit(run_id))
        .withColumn("reading_date", F.to_date("timestamp"))
        .select(*SILVER_SENSOR_READINGS.fieldNames())
    )


def to_quarantined_readings(candidates: DataFrame, failures: DataFrame, run_id: str) -> DataFrame:
    """The bronze rows of ``failures`` (``_record_id``, ``failed_rules``) as landed, with the rules
    they failed, in the quarantine schema."""
    return (
        candidates.join(failures.select("_record_id", "failed_rules"), "_record_id")
        .withColumn("_silver_run_id", F.lit(run_id))
        .select(*SILVER_QUARANTINE_READINGS.fieldNames())
    )


def to_pending_readings(candidates: DataFrame, pending: DataFrame) -> DataFrame:
    """The bronze rows of the ``pending`` record ids: judged again with the next batch."""
    return candidates.join(pending.select("_record_id"), "_record_id", "left_semi").select(
        *BRONZE_SENSOR_READINGS.fieldNames()
    )


def to_judgement_summary(judged: DataFrame) -> DataFrame:
    """Judged rows → one row: how many were judged, accepted, quarantined and left pending, the span
    of the accepted ones, per rule (a column named after it) how many rows failed it, and
    ``reading_gap``: the readings missing in the gaps before the rows judged (not left pending)."""
    accepted = (F.size("failed_rules") == 0) & ~F.col("_is_pending")
    return judged.agg(
        F.count(F.lit(1)).alias("judged"),
        F.count(F.when(accepted, 1)).alias("accepted"),
        F.count(F.when(F.size("failed_rules") > 0, 1)).alias("quarantined"),
        F.count(F.when(F.col("_is_pending"), 1)).alias("pending"),
        F.min(F.when(accepted, F.col("timestamp"))).alias("first_accepted"),
        F.max(F.when(accepted, F.col("timestamp"))).alias("last_accepted"),
        *[F.count(F.when(F.array_contains("failed_rules", rule), 1)).alias(rule) for rule in RULES],
        F.coalesce(F.sum(F.when(~F.col("_is_pending"), F.col("_missing_before"))), F.lit(0)).alias(GAP_COUNT),
    )


def to_released_readings(quarantine: DataFrame, known_compressors: DataFrame) -> DataFrame:
    """``_record_id`` of quarantined readings held only because their unit was not in the registry
    (rule ``unknown_compressor`` alone) whose unit the registry now knows: they are judged again."""
    held = quarantine.filter(F.col("failed_rules") == F.array(F.lit("unknown_compressor")))
    return held.join(known_compressors.select("compressor_id"), "compressor_id", "left_semi").select("_record_id")


def to_latest_registry(bronze: DataFrame, key: str, columns: list[str]) -> DataFrame:
    """The newest ingested version of each registry entry (stations, compressors)."""
    newest = Window.partitionBy(key).orderBy(F.col("_ingested_at").desc(), F.col("_record_id").desc())
    return (
        bronze.filter(F.col(key).isNotNull())
        .withColumn("_rank", F.row_number().over(newest))
        .filter("_rank = 1")
        .select(*columns)
    )


def _all(conditions: list[Column]) -> Column:
    result = conditions[0]
    for c in conditions[1:]:
        result = result & c
    return result


def _any(conditions: list[Column]) -> Column:
    result = conditions[0]
    for c in conditions[1:]:
        result = result | c
    return result


# ---------------------------------------------------------------- maintenance work orders

WORK_ORDER_RULES = ("missing_value", "unknown_event_type", "unknown_compressor", "ends_before_start")


def with_work_order_verdicts(
    bronze: DataFrame, known_compressors: DataFrame, event_types: tuple[str, ...]
) -> DataFrame:
    """Adds ``failed_rules`` to bronze work orders: a missing key field, an event type outside
    ``event_types``, a unit not in the registry, or an end before the start."""
    known = known_compressors.select("compressor_id", F.lit(True).alias("_is_known"))
    required = ("work_order_id", "compressor_id", "event_type", "started_at")
    flags = {
        "missing_value": _any([F.col(c).isNull() for c in required]),
        "unknown_event_type": F.col("event_type").isNotNull() & ~F.col("event_type").isin(*event_types),
        "unknown_compressor": F.col("compressor_id").isNotNull() & F.col("_is_known").isNull(),
        "ends_before_start": F.coalesce(F.col("ended_at") < F.col("started_at"), F.lit(False)),
    }
    names = [F.when(flags[r], F.lit(r)) for r in WORK_ORDER_RULES]
    return (
        bronze.join(F.broadcast(known), "compressor_id", "left")
        .withColumn("failed_rules", F.array_compact(F.array(*names)))
        .drop("_is_known")
    )


def to_latest_work_orders(valid: DataFrame, columns: list[str]) -> DataFrame:
    """The newest ingested valid version of each work order: a CMMS export lands a work order again
    when it changes (closed, re-coded), and the newest says what happened."""
    return to_latest_registry(valid, "work_order_id", columns)
