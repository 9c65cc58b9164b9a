"""Notebook entry points: one function per notebook, ``01_simulate`` → ``run_simulate`` and so on.

Each reads through ``lakehouse``, calls pure transforms, writes through ``lakehouse``, records
its step in ``ops_run_steps`` and returns a small summary that becomes the notebook exit value.

Runs are incremental. Bronze lands the files it has not seen (listed in ``bronze_landed_files``),
silver judges the bronze rows it has not judged (a Delta stream over bronze), gold recomputes the
hours silver gained plus the lookback its widest window needs (a Delta stream over silver), and
publish sends what changed in gold since the serving database's last publish (change data feed).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from altaviz import bronze, gold, lakehouse, progress, quality, silver, simulate
from altaviz.alerts import (
    carried_level_column,
    episode_sensors,
    to_alert_episodes,
    to_episode_changes,
    to_episode_starts,
    to_sensor_levels_long,
)
from altaviz.config import MIN_VACUUM_RETENTION_HOURS, SENSOR_COLUMNS, AltavizConfig, FailureSpec, load_config
from altaviz.lakehouse import Lakehouse
from altaviz.schemas import (
    ALERT_SIGNALS,
    BRONZE_SENSOR_READINGS,
    MAINTENANCE_EVENT_TYPES,
    OPS_RUN_STEPS,
    RAW_COMPRESSORS,
    RAW_MAINTENANCE_EVENTS,
    RAW_SENSOR_READINGS,
    RAW_STATIONS,
    SILVER_MAINTENANCE_EVENTS,
    SILVER_QUARANTINE_MAINTENANCE_EVENTS,
    SILVER_RULE_COUNTS,
    SILVER_SENSOR_READINGS,
    TABLES,
    level_column,
)

log = logging.getLogger("altaviz.jobs")

# Raw landing folders under Files/raw and the bronze table each one feeds.
RAW_SOURCES = {
    "sensor_readings": (RAW_SENSOR_READINGS, "bronze_sensor_readings"),
    "stations": (RAW_STATIONS, "bronze_stations"),
    "compressors": (RAW_COMPRESSORS, "bronze_compressors"),
    "maintenance_events": (RAW_MAINTENANCE_EVENTS, "bronze_maintenance_events"),
}
# Sources delivered as whole snapshots, again and again (the same bytes are no duplicate delivery).
REGISTRY_SNAPSHOTS = ("stations", "compressors")
# Sensor readings delivered as CSV (header row; columns as in raw/sensor_readings) land here.
CSV_READINGS = "sensor_readings_csv"
# Every landing folder under Files/raw and the bronze table it feeds.
LANDING_FOLDERS = {
    **{source: table for source, (_, table) in RAW_SOURCES.items()},
    CSV_READINGS: RAW_SOURCES["sensor_readings"][1],
}
FLEET_MANIFEST = "simulator/fleet.json"


@dataclass
class StepRecord:
    rows_in: int = 0
    rows_out: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded_step(spark: SparkSession, lh: Lakehouse, run_id: str, step: str) -> Iterator[StepRecord]:
    """Times a step and writes its row in ``ops_run_steps`` (only when it succeeds: a failed
    notebook is reported by the pipeline that ran it). Written once per run and step, even if
    the step is retried."""
    record = StepRecord()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    yield record
    row = (
        run_id,
        step,
        "succeeded",
        started,
        datetime.now(UTC),
        round(time.perf_counter() - t0, 3),
        record.rows_in,
        record.rows_out,
        json.dumps(record.detail, default=str, sort_keys=True),
    )
    lakehouse.append(spark.createDataFrame([row], OPS_RUN_STEPS), lh, "ops_run_steps", txn=(f"{run_id}/{step}", 0))


def _local_checkpoint(df: DataFrame) -> DataFrame:
    """Materialises a frame that later steps read several times, and cuts its plan short."""
    return df.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)


def _setup(lakehouse_root: str, config_path: str) -> tuple[Lakehouse, AltavizConfig]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(name)s %(message)s", datefmt="%H:%M:%S")
    for chatty in ("py4j", "pgserver"):  # connection and server-start chatter, not the step's story
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return Lakehouse.default(lakehouse_root), load_config(config_path or None)


def _parse_time(text: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise ValueError(
            f"{name} must be an ISO date or timestamp (2026-11-01 or 2026-11-01T00:00Z), got {text!r}"
        ) from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------- 01_simulate


def _simulation_start(run_date: str, start: str, days: float) -> datetime:
    """An explicit start wins; otherwise the window ends at midnight UTC of the run date (default today)."""
    if start:
        return _parse_time(start, "start")
    try:
        day = date.fromisoformat(run_date) if run_date else datetime.now(UTC).date()
    except ValueError as err:
        raise ValueError(f"run_date must be YYYY-MM-DD, got {run_date!r}") from err
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=days)


def _failure_schedule(failure_schedule: str, config: AltavizConfig, fleet_ids: set[str]) -> tuple[FailureSpec, ...]:
    """The schedule from the parameter (a JSON list) or the config, keeping units that exist."""
    if failure_schedule:
        try:
            specs = tuple(FailureSpec.model_validate(item) for item in json.loads(failure_schedule))
        except (json.JSONDecodeError, TypeError, ValueError) as err:
            raise ValueError(
                "failure_schedule must be a JSON list of {compressor_id, degradation_start_day, failure_day"
                f"[, failure_mode][, repair_hours]}}: {err}"
            ) from err
    else:
        specs = config.simulation.failures
    outside = sorted(f.compressor_id for f in specs if f.compressor_id not in fleet_ids)
    if outside:
        log.warning("failure schedule names units outside this fleet, ignored: %s", ", ".join(outside))
    return tuple(f for f in specs if f.compressor_id in fleet_ids)


def fleet_epoch(spark: SparkSession, lh: Lakehouse, explicit: datetime | None, first_start: datetime) -> datetime:
    """The simulated fleet's epoch: the one this lakehouse's fleet already has (Files/simulator/fleet.json),
    else ``explicit``, else the start of this first batch — then remembered for every later batch."""
    path = lh.files_path(FLEET_MANIFEST)
    stored = lakehouse.read_text(spark, path)
    if stored:
        epoch = _parse_time(json.loads(stored)["epoch"], f"epoch in {path}")
        if explicit is not None and explicit != epoch:
            raise ValueError(
                f"this lakehouse's simulated fleet started at {epoch.isoformat()} ({path}); "
                f"fleet_epoch {explicit.isoformat()} would start another fleet in it. Use a new lakehouse, "
                "or leave fleet_epoch empty to continue the fleet."
            )
        return epoch
    epoch = explicit or first_start
    lakehouse.write_text(spark, path, json.dumps({"epoch": epoch.isoformat()}) + "\n")
    log.info("simulated fleet epoch %s recorded in %s", epoch.isoformat(), path)
    return epoch


def run_simulate(
    spark: SparkSession,
    *,
    run_id: str,
    run_date: str = "",
    start: str = "",
    n_compressors: int = 0,
    n_stations: int = 0,
    days: float = 0,
    interval_minutes: int = 0,
    seed: int = -1,
    failure_schedule: str = "",
    failure_rate_per_unit_year: float = -1.0,
    fleet_epoch_at: str = "",
    lakehouse_root: str = "",
    config_path: str = "",
) -> dict[str, Any]:
    """Lands one simulated batch under Files/raw: readings, fleet registry, the maintenance work
    orders a CMMS would export, and the answer key. Zero / empty / negative parameters take the
    configured defaults; the same parameters land the same batch once."""
    lh, config = _setup(lakehouse_root, config_path)
    sim = config.simulation
    n_compressors = n_compressors or sim.n_compressors
    n_stations = n_stations or sim.n_stations
    days = days or sim.days
    seed = sim.seed if seed < 0 else seed
    stations = simulate.fleet_stations(config, n_stations, seed)
    compressors = simulate.fleet_compressors(config, n_compressors, stations, seed)
    batch_start = _simulation_start(run_date, start, days)
    explicit_epoch = _parse_time(fleet_epoch_at, "fleet_epoch") if fleet_epoch_at else sim.epoch
    plan = simulate.SimulationPlan(
        epoch=fleet_epoch(spark, lh, explicit_epoch, batch_start),
        start=batch_start,
        days=days,
        interval_minutes=interval_minutes or sim.interval_minutes,
        n_compressors=n_compressors,
        n_stations=n_stations,
        seed=seed,
        failures=_failure_schedule(failure_schedule, config, {c["compressor_id"] for c in compressors}),
        failure_rate_per_unit_year=sim.failure_rate_per_unit_year
        if failure_rate_per_unit_year < 0
        else failure_rate_per_unit_year,
        sensor_faults=sim.sensor_faults,
    )
    readings_dir = lh.files_path(f"raw/sensor_readings/batch-{plan.batch_id}")
    summary: dict[str, Any] = {"batch_id": plan.batch_id, "start": plan.start.isoformat(), "rows": 0}
    with recorded_step(spark, lh, run_id, "01_simulate") as step:
        if lakehouse.path_exists(spark, f"{readings_dir}/_SUCCESS"):
            log.info("batch %s already landed at %s: nothing to do", plan.batch_id, readings_dir)
            summary["skipped"] = True
        else:
            # Registry, work orders and answer key first; the readings' _SUCCESS marks the batch complete.
            batch = f"batch-{plan.batch_id}"
            events = simulate.fleet_events(config, plan, compressors)
            records = simulate.maintenance_records(plan, events)
            landed = [
                ("stations", simulate.stations_frame(spark, stations)),
                ("compressors", simulate.compressors_frame(spark, compressors)),
                ("ground_truth", simulate.ground_truth_frame(spark, simulate.ground_truth(plan, events))),
            ]
            if records:  # a CMMS export with nothing in it is not delivered
                landed.append(("maintenance_events", simulate.maintenance_frame(spark, records)))
            for source, frame in landed:
                frame.coalesce(1).write.mode("overwrite").parquet(lh.files_path(f"raw/{source}/{batch}"))
            with progress.phase(spark, "01_simulate", "landing readings") as landing:
                readings = simulate.simulate_readings(spark, plan, compressors, config, stations, events)
                readings.repartition(max(1, plan.n_compressors * plan.n_steps // 2_000_000)).write.mode(
                    "overwrite"
                ).parquet(readings_dir)
                # Dropouts and mislabelled readings move the count off units x steps; Parquet footers know it.
                n_rows = spark.read.parquet(readings_dir).count()
                landing.rows = n_rows
            summary["work_orders"] = len(records)
            summary["rows"] = n_rows
            log.info("landed %d readings for %d compressors in %s", n_rows, n_compressors, readings_dir)
        step.rows_out = summary["rows"]
        step.detail = dict(summary)
    return summary


# ---------------------------------------------------------------- 02_bronze


def run_bronze(
    spark: SparkSession,
    *,
    run_id: str,
    continuous_seconds: int = 0,
    lakehouse_root: str = "",
    config_path: str = "",
) -> dict[str, Any]:
    """Appends every raw file not ingested yet to its bronze table, with ingestion metadata.

    ``continuous_seconds`` > 0 keeps ingesting: every that many seconds the new files land in bronze
    (real-time monitoring; stop it by stopping the notebook or process). 0 ingests what is there and ends.
    """
    if continuous_seconds < 0:
        raise ValueError(f"continuous_seconds must be 0 (ingest once) or a positive interval, got {continuous_seconds}")
    lh, config = _setup(lakehouse_root, config_path)
    summary: dict[str, Any] = {}
    started = datetime.now(UTC)
    with recorded_step(spark, lh, run_id, "02_bronze") as step:
        rejected: dict[str, str] = {}
        while True:
            with progress.phase(spark, "02_bronze", "landing new files") as ingesting:
                for folder, table in LANDING_FOLDERS.items():
                    landed = bronze.land_new_files(
                        spark,
                        lh,
                        folder,
                        lh.files_path(f"raw/{folder}"),
                        table,
                        run_id,
                        reject_duplicates=folder not in REGISTRY_SNAPSHOTS,
                    )
                    summary[table] = summary.get(table, 0) + landed.rows
                    rejected |= landed.rejected
                    log.info(
                        "%s: %d new files, %d rows, %d rejected",
                        folder,
                        landed.files,
                        landed.rows,
                        len(landed.rejected),
                    )
                ingesting.rows = sum(v for v in summary.values() if isinstance(v, int))
            if not continuous_seconds:
                break
            progress.report("02_bronze", f"landing continuously every {continuous_seconds} s (stop the run to end)")
            time.sleep(continuous_seconds)
        summary["rejected_files"] = len(rejected)
        summary["rejected"] = _reason_counts(rejected)
        step.rows_out = summary.get("bronze_sensor_readings", 0)
        step.detail = dict(summary)
        this_run = _ingested_by_run(spark, lh, "bronze_sensor_readings", run_id, started)
        counts = this_run.agg(
            F.count(F.lit(1)).alias("rows"), F.count_distinct("_record_id").alias("ids"), F.max("_ingested_at")
        ).first()
        now = datetime.now(UTC)
        newest = _aware(counts[2]) or _newest(spark, lh, "bronze_sensor_readings", "_ingested_at")
        _record_quality(
            spark, lh, "bronze_sensor_readings", quality.bronze_metrics(counts[0], counts[1], newest, now), run_id, now
        )
    return summary


def _reason_counts(rejected: dict[str, str]) -> dict[str, int]:
    """Rejected files per kind of reason (the reason's words before its first colon)."""
    return dict(Counter(reason.split(":")[0] for reason in rejected.values()))


def _ingested_by_run(spark: SparkSession, lh: Lakehouse, table: str, run_id: str, started: datetime) -> DataFrame:
    """The rows this run added to a bronze table; file statistics on _ingested_at skip every file
    written before the run started."""
    return lakehouse.read(spark, lh, table).filter(
        (F.col("_ingested_at") >= F.lit(started)) & (F.col("_ingest_run_id") == run_id)
    )


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _newest(spark: SparkSession, lh: Lakehouse, table: str, column: str) -> datetime | None:
    """The newest value of a time column over the whole table (when a run added nothing newer)."""
    return _aware(lakehouse.read(spark, lh, table).agg(F.max(column)).first()[0])


def _record_quality(
    spark: SparkSession, lh: Lakehouse, table_name: str, metrics: dict, run_id: str, now: datetime
) -> None:
    rows = quality.to_quality_rows(spark, table_name, metrics, run_id, now)
    lakehouse.append(rows, lh, "gold_data_quality", txn=(f"{run_id}/quality/{table_name}", 0))


# ---------------------------------------------------------------- 03_silver


def _refresh_registries(spark: SparkSession, lh: Lakehouse) -> DataFrame:
    """Silver station and compressor registries = the newest bronze version of each entry."""
    for entity, key, schema in (
        ("stations", "station_id", RAW_STATIONS),
        ("compressors", "compressor_id", RAW_COMPRESSORS),
    ):
        source = f"bronze_{entity}"
        if not lakehouse.table_exists(spark, lh, source):
            raise RuntimeError(f"Tables/{source} does not exist: run 02_bronze after landing the fleet registry")
        latest = silver.to_latest_registry(lakehouse.read(spark, lh, source), key, schema.fieldNames())
        target = f"silver_{entity}"
        if not lakehouse.table_exists(spark, lh, target):
            lakehouse.merge(latest, lh, target)
            continue
        # Only entries that changed go to MERGE; an unchanged registry costs one small comparison.
        changed = latest.exceptAll(lakehouse.read(spark, lh, target))
        if not changed.isEmpty():
            lakehouse.merge(changed, lh, target)
    return lakehouse.read(spark, lh, "silver_compressors")


def _refresh_maintenance_events(spark: SparkSession, lh: Lakehouse, compressors: DataFrame, run_id: str) -> dict:
    """Silver work orders = the newest valid bronze version of each; invalid rows go to their
    quarantine once, with the rules. Work orders are few (a fleet-year is thousands), so each run
    judges them all and MERGE rewrites only what changed."""
    if not lakehouse.table_exists(spark, lh, "bronze_maintenance_events"):
        return {"work_orders": 0, "quarantined": 0}
    for table in ("silver_maintenance_events", "silver_quarantine_maintenance_events"):
        lakehouse.ensure_table(spark, lh, table)
    judged = silver.with_work_order_verdicts(
        lakehouse.read(spark, lh, "bronze_maintenance_events"), compressors, MAINTENANCE_EVENT_TYPES
    ).persist(StorageLevel.MEMORY_AND_DISK)
    latest = silver.to_latest_work_orders(
        judged.filter(F.size("failed_rules") == 0), SILVER_MAINTENANCE_EVENTS.fieldNames()
    )
    changed = latest.exceptAll(lakehouse.read(spark, lh, "silver_maintenance_events"))
    if not changed.isEmpty():
        lakehouse.merge(changed, lh, "silver_maintenance_events")
    already = lakehouse.read(spark, lh, "silver_quarantine_maintenance_events").select("_record_id")
    failed = (
        judged.filter(F.size("failed_rules") > 0)
        .join(already, "_record_id", "left_anti")
        .withColumn("_silver_run_id", F.lit(run_id))
        .select(*SILVER_QUARANTINE_MAINTENANCE_EVENTS.fieldNames())
    )
    quarantined = lakehouse.append(failed, lh, "silver_quarantine_maintenance_events")
    judged.unpersist()
    return {"work_orders": lakehouse.read(spark, lh, "silver_maintenance_events").count(), "quarantined": quarantined}


def _release_held_readings(spark: SparkSession, lh: Lakehouse, compressors: DataFrame) -> int:
    """Readings quarantined only for an unknown unit whose unit the registry now knows move from
    quarantine to pending, and are judged with this run's batch; returns how many. Pending is
    written first, so a crash between the two writes leaves them in both, and the next run
    releases them again (pending keeps each record once)."""
    ids = _local_checkpoint(
        silver.to_released_readings(lakehouse.read(spark, lh, "silver_quarantine_readings"), compressors)
    )
    released = ids.count()
    if not released:
        return 0
    rows = lakehouse.read(spark, lh, "bronze_sensor_readings").join(F.broadcast(ids), "_record_id", "left_semi")
    pending = _local_checkpoint(
        lakehouse.read(spark, lh, "silver_pending_readings")
        .unionByName(rows.select(*BRONZE_SENSOR_READINGS.fieldNames()))
        .dropDuplicates(["_record_id"])
    )
    lakehouse.overwrite(pending, lh, "silver_pending_readings")
    lakehouse.delete_keys(ids, lh, "silver_quarantine_readings", ("_record_id",))
    log.info("silver: %d held readings released (their unit is now in the registry)", released)
    return released


@dataclass
class SilverTotals:
    judged: int = 0
    accepted: int = 0
    quarantined: int = 0
    pending: int = 0
    first_accepted: datetime | None = None
    last_accepted: datetime | None = None
    rules: Counter = field(default_factory=Counter)

    def add(self, summary: Any) -> None:
        self.judged += summary["judged"]
        self.accepted += summary["accepted"]
        self.quarantined += summary["quarantined"]
        self.pending = summary["pending"]
        for name in ("first_accepted", "last_accepted"):
            value = summary[name]
            value = _aware(value)
            if value is not None:
                current = getattr(self, name)
                pick = min if name == "first_accepted" else max
                setattr(self, name, value if current is None else pick(current, value))
        self.rules.update({rule: int(summary[rule]) for rule in (*silver.RULES, silver.GAP_COUNT)})


def _judged_nearby(
    spark: SparkSession, lh: Lakehouse, lo: datetime, hi: datetime, config: AltavizConfig
) -> tuple[DataFrame, DataFrame]:
    """Silver and quarantine rows around [lo, hi]: what the spike check's statistics and neighbours
    need, and what a replayed batch has already placed."""
    before = timedelta(hours=config.validation.outlier_stats_hours + 1)
    after = timedelta(minutes=config.validation.outlier_neighbour_gap_minutes)
    start, end = lo - before, hi + after
    accepted = lakehouse.read(spark, lh, "silver_sensor_readings").filter(
        F.col("reading_date").between(start.date(), end.date()) & F.col("timestamp").between(start, end)
    )
    quarantined = lakehouse.read(spark, lh, "silver_quarantine_readings").filter(
        F.col("timestamp").between(start, end) | F.col("timestamp").isNull()
    )
    return accepted, quarantined


def _silver_batch(
    spark: SparkSession,
    lh: Lakehouse,
    config: AltavizConfig,
    run_id: str,
    judged_at: datetime,
    compressors: DataFrame,
    totals: SilverTotals,
):
    columns = BRONZE_SENSOR_READINGS.fieldNames()
    history_columns = [*silver.KEY, *SENSOR_COLUMNS, "_record_id"]

    def judge(new_rows: DataFrame, batch_id: int) -> None:
        incoming = new_rows.select(*columns).unionByName(lakehouse.read(spark, lh, "silver_pending_readings"))
        span = incoming.agg(F.min("timestamp").alias("lo"), F.max("timestamp").alias("hi")).first()
        history = spark.createDataFrame([], SILVER_SENSOR_READINGS).select(*history_columns)
        placed = spark.createDataFrame([], "_record_id string")
        if span["lo"] is not None:
            accepted, quarantined = _judged_nearby(spark, lh, span["lo"], span["hi"], config)
            in_sequence = quarantined.filter(F.forall("failed_rules", lambda r: r.isin(*silver.SEQUENCE_RULES)))
            history = accepted.select(*history_columns).unionByName(in_sequence.select(*history_columns))
            placed = quarantined.select("_record_id")
        judged = _local_checkpoint(
            silver.judge_readings(
                incoming, compressors, history, config.validation, judged_at, config.windows.reading_interval_minutes
            )
        )
        summary = judged.transform(silver.to_judgement_summary).first()
        lakehouse.append(silver.filter_valid_readings(judged, run_id), lh, "silver_sensor_readings")
        if summary["quarantined"]:
            failures = judged.filter(F.size("failed_rules") > 0).join(placed, "_record_id", "left_anti")
            quarantine = silver.to_quarantined_readings(
                incoming, _broadcast_if(failures, summary["quarantined"]), run_id
            )
            lakehouse.append(quarantine, lh, "silver_quarantine_readings")
        # Last: until it is rewritten, a replay still finds the rows that were pending before.
        waiting = judged.filter(F.col("_is_pending"))
        lakehouse.overwrite(
            silver.to_pending_readings(incoming, _broadcast_if(waiting, summary["pending"])),
            lh,
            "silver_pending_readings",
        )
        totals.add(summary)

    return judge


def _broadcast_if(frame: DataFrame, rows: int, limit: int = 1_000_000) -> DataFrame:
    """A frame known to be small is joined by broadcast rather than by shuffling the other side."""
    return F.broadcast(frame) if rows <= limit else frame


def run_silver(
    spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "", now: str = ""
) -> dict[str, Any]:
    """Validates bronze rows not judged yet; valid rows go to silver, failures to quarantine, rows
    waiting for their next reading to pending."""
    lh, config = _setup(lakehouse_root, config_path)
    judged_at = _parse_time(now, "now") if now else datetime.now(UTC)
    totals = SilverTotals()
    with recorded_step(spark, lh, run_id, "03_silver") as step:
        # Every output exists after a run, even one that quarantined or held back nothing.
        for table in ("silver_sensor_readings", "silver_quarantine_readings", "silver_pending_readings"):
            lakehouse.ensure_table(spark, lh, table)
        compressors = _refresh_registries(spark, lh)
        maintenance = _refresh_maintenance_events(spark, lh, compressors, run_id)
        released = _release_held_readings(spark, lh, compressors)
        bronze_stream = spark.readStream.format("delta").load(lh.table_path("bronze_sensor_readings"))
        with progress.phase(spark, "03_silver", "judging new readings") as judging:
            judge = _silver_batch(spark, lh, config, run_id, judged_at, compressors, totals)
            batches = lakehouse.process_available(
                bronze_stream,
                lh.checkpoint_path("silver_sensor_readings"),
                judge,
                query_name=f"silver_{run_id}".replace("-", "_"),
            )
            if released and not batches:  # no new bronze rows: the released readings are judged alone
                judge(spark.createDataFrame([], BRONZE_SENSOR_READINGS), -1)
            judging.rows = totals.judged
        counts = spark.createDataFrame(
            [(run_id, rule, int(totals.rules.get(rule, 0)), judged_at) for rule in (*silver.RULES, silver.GAP_COUNT)],
            SILVER_RULE_COUNTS,
        )
        lakehouse.append(counts, lh, "silver_rule_counts", txn=(f"{run_id}/silver_rule_counts", 0))
        step.rows_in, step.rows_out = totals.judged, totals.accepted
        step.detail = {
            "validated": totals.judged,
            "valid": totals.accepted,
            "quarantined": totals.quarantined,
            "pending": totals.pending,
            "released_held": released,
            "rules": {rule: int(totals.rules.get(rule, 0)) for rule in (*silver.RULES, silver.GAP_COUNT)},
            "maintenance": maintenance,
        }
        placed = sum(
            lakehouse.read(spark, lh, t).count()
            for t in ("silver_sensor_readings", "silver_quarantine_readings", "silver_pending_readings")
        )
        metrics = quality.silver_metrics(
            accepted=totals.accepted,
            quarantined=totals.quarantined,
            first_accepted=totals.first_accepted,
            last_accepted=totals.last_accepted,
            newest_reading=totals.last_accepted or _newest(spark, lh, "silver_sensor_readings", "timestamp"),
            units=compressors.count(),
            interval_minutes=config.windows.reading_interval_minutes,
            placed_rows=placed,
            bronze_rows=lakehouse.read(spark, lh, "bronze_sensor_readings").count(),
            now=judged_at,
        )
        _record_quality(spark, lh, "silver_sensor_readings", metrics, run_id, judged_at)
        log.info("silver: %s", step.detail)
    return dict(step.detail)


# ---------------------------------------------------------------- 04_gold


def _carried_levels(spark: SparkSession, lh: Lakehouse, scope: DataFrame, earliest: datetime) -> DataFrame:
    """Per compressor in ``scope``: the alert levels of its last gold reading before ``_level_from``.

    Looks in the day before first (date partitions); only compressors silent for longer are looked
    up in all of gold."""
    features = lakehouse.read(spark, lh, "gold_sensor_features")

    def last_before(candidates: DataFrame) -> DataFrame:
        return (
            candidates.join(F.broadcast(scope.select("compressor_id", "_level_from")), "compressor_id")
            .filter(F.col("timestamp") < F.col("_level_from"))
            .groupBy("compressor_id")
            .agg(*[F.max_by(level_column(s), "timestamp").alias(carried_level_column(s)) for s in ALERT_SIGNALS])
        )

    recent = last_before(features.filter(F.col("reading_date") >= (earliest - timedelta(days=1)).date()))
    recent = recent.persist(StorageLevel.MEMORY_AND_DISK)
    silent = scope.select("compressor_id").join(recent.select("compressor_id"), "compressor_id", "left_anti")
    if silent.isEmpty():
        return recent
    return recent.unionByName(last_before(features.join(F.broadcast(silent), "compressor_id")))


def _gold_scope(spark: SparkSession, lh: Lakehouse, new_silver: DataFrame) -> tuple[DataFrame, datetime] | None:
    """Per compressor with new readings: the hour of its first new reading (``_level_from``) and the
    levels carried into it. None when there is nothing new."""
    starts = new_silver.groupBy("compressor_id").agg(F.date_trunc("hour", F.min("timestamp")).alias("_level_from"))
    starts = starts.persist(StorageLevel.MEMORY_AND_DISK)
    earliest = starts.agg(F.min("_level_from")).first()[0]
    if earliest is None:
        return None
    earliest = _aware(earliest)
    carried = _carried_levels(spark, lh, starts, earliest)
    scope = starts.join(carried, "compressor_id", "left").persist(StorageLevel.MEMORY_AND_DISK)
    return scope, earliest


@dataclass
class GoldTotals:
    readings: int = 0
    hours: int = 0
    episodes_changed: int = 0
    first_hour: datetime | None = None
    last_hour: datetime | None = None


def _widen(totals: GoldTotals, first: datetime | None, last: datetime | None) -> None:
    first, last = _aware(first), _aware(last)
    if first is not None:
        totals.first_hour = first if totals.first_hour is None else min(totals.first_hour, first)
    if last is not None:
        totals.last_hour = last if totals.last_hour is None else max(totals.last_hour, last)


def _episode_levels(
    spark: SparkSession,
    lh: Lakehouse,
    config: AltavizConfig,
    features: DataFrame,
    scope: DataFrame,
    starts: DataFrame,
) -> DataFrame:
    """Alert levels from each (compressor, sensor)'s ``_episode_from`` on: the recomputed
    ``features``, plus, for a compressor with an episode open before its ``_level_from``, its
    stored gold rows from that episode's opening up to ``_level_from``."""
    reopening = (
        starts.groupBy("compressor_id")
        .agg(F.min("_episode_from").alias("_reopened_at"))
        .join(scope.select("compressor_id", "_level_from"), "compressor_id")
        .filter(F.col("_reopened_at") < F.col("_level_from"))
    )
    rows = features
    earliest = reopening.agg(F.min("_reopened_at")).first()[0]
    if earliest is not None:
        before = (
            lakehouse.read(spark, lh, "gold_sensor_features")
            .filter(F.col("reading_date") >= _aware(earliest).date())
            .join(F.broadcast(reopening), "compressor_id")
            .filter((F.col("timestamp") >= F.col("_reopened_at")) & (F.col("timestamp") < F.col("_level_from")))
            .drop("_reopened_at", "_level_from")
        )
        rows = rows.unionByName(before)
    return (
        rows.transform(to_sensor_levels_long, config.thresholds)
        .join(F.broadcast(starts), ["compressor_id", "sensor"])
        .filter(F.col("timestamp") >= F.col("_episode_from"))
        .drop("_episode_from")
    )


def _gold_batch(spark: SparkSession, lh: Lakehouse, config: AltavizConfig, compressors: DataFrame, totals: GoldTotals):
    sensors = episode_sensors(config.thresholds)

    def recompute(new_silver: DataFrame, batch_id: int) -> None:
        found = _gold_scope(spark, lh, new_silver)
        if found is None:
            return
        scope, earliest = found
        lookback = F.expr(f"INTERVAL {int(gold.LOOKBACK.total_seconds())} SECONDS")
        context = (
            lakehouse.read(spark, lh, "silver_sensor_readings")
            .filter(F.col("reading_date") >= (earliest - gold.LOOKBACK).date())
            .join(F.broadcast(scope.select("compressor_id", "_level_from")), "compressor_id")
            .filter(F.col("timestamp") >= F.col("_level_from") - lookback)
            .drop("_level_from")
        )
        # Computed once, then written, aggregated by hour and turned into episodes.
        features = _local_checkpoint(gold.to_sensor_features(context, compressors, config, scope))
        in_days = F.col("t.reading_date") >= F.lit(earliest.date())
        written = lakehouse.merge(features, lh, "gold_sensor_features", within=in_days)
        totals.readings += written.inserted + written.updated

        hourly = _local_checkpoint(gold.to_hourly_readings(features))
        span = hourly.agg(F.count(F.lit(1)), F.min("hour_start"), F.max("hour_start")).first()
        lakehouse.merge(hourly, lh, "gold_hourly_readings", within=in_days)
        totals.hours += span[0]
        _widen(totals, span[1], span[2])

        if sensors:
            existing = lakehouse.read(spark, lh, "gold_alert_episodes")
            starts = to_episode_starts(scope, existing, sensors).persist(StorageLevel.MEMORY_AND_DISK)
            levels = _episode_levels(spark, lh, config, features, scope, starts)
            changes = to_episode_changes(to_alert_episodes(levels), existing, starts)
            totals.episodes_changed += lakehouse.merge(
                changes, lh, "gold_alert_episodes", delete_flag="_delete"
            ).changed
            starts.unpersist()
        scope.unpersist()

    return recompute


def run_gold(spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "") -> dict[str, Any]:
    """Recomputes features, hourly aggregates and alert episodes where silver gained readings."""
    lh, config = _setup(lakehouse_root, config_path)
    measured_at = datetime.now(UTC)
    totals = GoldTotals()
    with recorded_step(spark, lh, run_id, "04_gold") as step:
        compressors = lakehouse.read(spark, lh, "silver_compressors")
        silver_stream = spark.readStream.format("delta").load(lh.table_path("silver_sensor_readings"))
        with progress.phase(spark, "04_gold", "recomputing features, hours and episodes") as recomputing:
            lakehouse.process_available(
                silver_stream,
                lh.checkpoint_path("gold_sensor_features"),
                _gold_batch(spark, lh, config, compressors, totals),
                query_name=f"gold_{run_id}".replace("-", "_"),
            )
            recomputing.rows = totals.readings
        metrics = quality.hourly_metrics(
            hours_written=totals.hours,
            first_hour=totals.first_hour,
            last_hour=totals.last_hour,
            units=compressors.count(),
            now=measured_at,
        )
        _record_quality(spark, lh, "gold_hourly_readings", metrics, run_id, measured_at)
        summary = (
            lakehouse.read(spark, lh, "gold_alert_episodes")
            .agg(
                F.count(F.lit(1)).alias("episodes"),
                F.count(F.when(F.col("severity") == "critical", 1)).alias("critical"),
                F.count(F.when(F.col("is_active"), 1)).alias("active"),
            )
            .first()
        )
        step.rows_in, step.rows_out = totals.readings, totals.hours
        step.detail = {
            "features_written": totals.readings,
            "hours_written": totals.hours,
            "episodes_changed": totals.episodes_changed,
            "alert_episodes": summary["episodes"],
            "critical_episodes": summary["critical"],
            "active_episodes": summary["active"],
        }
    return dict(step.detail)


# ---------------------------------------------------------------- 05_publish


def _serving_settings(arguments: dict[str, Any]) -> dict[str, str]:
    """The Azure SQL settings among a notebook entry point's arguments (its ``locals()``): every
    parameter of ``azure_sql.NOTEBOOK_PARAMETERS`` the notebook passes, as setting overrides."""
    from altaviz.publish import azure_sql

    return azure_sql.overrides_from_parameters({name: arguments[name] for name in azure_sql.NOTEBOOK_PARAMETERS})


def run_publish(
    spark: SparkSession,
    *,
    run_id: str,
    lakehouse_root: str = "",
    config_path: str = "",
    target: str = "",
    sql_server: str = "",
    sql_database: str = "",
    sql_auth: str = "",
    sql_driver: str = "",
    tenant_id: str = "",
    client_id: str = "",
    key_vault_url: str = "",
    sql_client_secret_name: str = "",
    semantic_model: str = "",
) -> dict[str, Any]:
    """Sends what changed in the lakehouse since the serving database's last publish (embedded
    PostgreSQL by default), in one transaction; then, in Fabric, refreshes the lakehouse SQL endpoint
    metadata and the named semantic model.

    ``sql_server``, ``sql_database``, ``sql_auth``, ``sql_driver``, ``tenant_id``, ``client_id``,
    ``key_vault_url`` and ``sql_client_secret_name`` override the environment variables of
    ``AzureSqlSettings.from_environment`` when non-empty: a Fabric notebook has no environment
    variables of its own, so the pipeline passes them as parameters.
    """
    from altaviz.publish import open_serving_database, publish_run_log, publish_tables
    from altaviz.publish.semantic_link import refresh_after_publish

    lh, config = _setup(lakehouse_root, config_path)
    settings = _serving_settings(locals())
    with open_serving_database(target, settings) as db:
        with recorded_step(spark, lh, run_id, "05_publish") as step:
            with progress.phase(spark, "05_publish", "publishing changes") as publishing:
                published = publish_tables(spark, lh, config, db, run_id)
                publishing.rows = sum(published.values())
            step.rows_out = publishing.rows
            step.detail = {"target": db.describe(), **published}
        # After the step is recorded, so the run log in the database includes publishing itself.
        publish_run_log(spark, lh, db, run_id)
    return {**step.detail, "refresh": refresh_after_publish(semantic_model)}


# ---------------------------------------------------------------- 09_record_failure

# The serving schema's pipeline_run_steps.detail is NVARCHAR(4000) / VARCHAR(4000).
MAX_DETAIL_CHARS = 4000


def failure_detail(error: str) -> str:
    """``{"error": …}`` as JSON that fits the serving column, the message cut (marked) if needed."""
    message = error.strip()
    detail = json.dumps({"error": message}, ensure_ascii=False)
    while len(detail) > MAX_DETAIL_CHARS:
        message = message[: len(message) - (len(detail) - MAX_DETAIL_CHARS) - 20] + " …[cut]"
        detail = json.dumps({"error": message}, ensure_ascii=False)
    return detail


def failed_step_rows(
    run_id: str, errors: dict[str, str], recorded: list[tuple[str, datetime]], now: datetime
) -> list[tuple[Any, ...]]:
    """``ops_run_steps`` rows for the activities that failed (a non-empty error message).

    A failed notebook never records its own step, so its start is not known: in a chain it started
    after the last recorded step finished, which is its ``started_at`` (else ``now``); the duration
    runs to ``now``, when the pipeline reached this handler: an upper bound.
    """
    failed = [(step, message) for step, message in errors.items() if message and message.strip()]
    if not failed:
        # The handler ran without any activity reporting an error: still a failed run, said so.
        failed = [("pipeline", "the on-failure path ran but no activity reported an error message")]
    started = max((finished for _, finished in recorded), default=now)
    rows = []
    for step, message in failed:
        rows.append(
            (
                run_id,
                step,
                "failed",
                started,
                now,
                round(max((now - started).total_seconds(), 0.0), 3),
                0,
                0,
                failure_detail(message),
            )
        )
    return rows


def run_record_failure(
    spark: SparkSession,
    *,
    run_id: str,
    errors: dict[str, str],
    lakehouse_root: str = "",
    config_path: str = "",
    target: str = "",
    sql_server: str = "",
    sql_database: str = "",
    sql_auth: str = "",
    sql_driver: str = "",
    tenant_id: str = "",
    client_id: str = "",
    key_vault_url: str = "",
    sql_client_secret_name: str = "",
) -> dict[str, Any]:
    """The pipeline's on-failure path: writes each failed activity (step → its error message; empty
    for activities that succeeded or were skipped) to ``ops_run_steps`` with status ``failed``, then
    publishes the run log, so the serving database's pipeline_runs shows the run as failed.

    The lakehouse row is written first: if the serving database is what failed, the failure is still
    recorded in the lakehouse, and this notebook fails too (the pipeline run stays failed either way).
    """
    from altaviz.publish import open_serving_database, publish_run_log

    lh, _ = _setup(lakehouse_root, config_path)
    recorded = [
        (r["step"], _aware(r["finished_at"]))
        for r in lakehouse.read(spark, lh, "ops_run_steps")
        .filter(F.col("run_id") == run_id)
        .select("step", "finished_at")
        .collect()
    ]
    rows = failed_step_rows(run_id, errors, recorded, datetime.now(UTC))
    for row in rows:
        # Its own transaction id: a step that recorded success and failed afterwards keeps both rows.
        txn = (f"{run_id}/{row[1]}/failed", 0)
        lakehouse.append(spark.createDataFrame([row], OPS_RUN_STEPS), lh, "ops_run_steps", txn=txn)
        log.error("run %s: %s failed: %s", run_id, row[1], row[8])
    settings = _serving_settings(locals())
    with open_serving_database(target, settings) as db:
        publish_run_log(spark, lh, db, run_id)
        target_described = db.describe()
    failed = {row[1]: json.loads(row[8])["error"] for row in rows}
    return {"run_id": run_id, "status": "failed", "failed_steps": failed, "recorded_in": target_described}


# ---------------------------------------------------------------- 08_maintain


def run_maintain(
    spark: SparkSession,
    *,
    run_id: str,
    retention_hours: int = 0,
    lakehouse_root: str = "",
    config_path: str = "",
) -> dict[str, Any]:
    """Table maintenance (its own weekly pipeline): compacts each table's small files (OPTIMIZE),
    then deletes files no version within the retention still needs (VACUUM). Both leave the data
    as it is: compaction commits carry no data change, so no stream or change feed sees them."""
    lh, config = _setup(lakehouse_root, config_path)
    retention = retention_hours or config.lakehouse.vacuum_retention_hours
    if retention < MIN_VACUUM_RETENTION_HOURS:
        raise ValueError(
            f"retention_hours={retention} is below {MIN_VACUUM_RETENTION_HOURS} h: a stream or a reader that "
            "started before a rewrite could lose files it still needs"
        )
    summary: dict[str, Any] = {"retention_hours": retention}
    with recorded_step(spark, lh, run_id, "08_maintain") as step:
        for name in TABLES:
            if not lakehouse.table_exists(spark, lh, name):
                continue
            with progress.phase(spark, "08_maintain", f"{name}: compacting and vacuuming") as maintaining:
                compacted = lakehouse.optimize(spark, lh, name)
                lakehouse.vacuum(spark, lh, name, retention)
                maintaining.rows = compacted["files_removed"]
            summary[name] = compacted
        step.rows_in = sum(v["files_removed"] for k, v in summary.items() if isinstance(v, dict))
        step.rows_out = sum(v["files_added"] for k, v in summary.items() if isinstance(v, dict))
        step.detail = dict(summary)
    return summary
