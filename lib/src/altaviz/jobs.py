"""Notebook entry points: one function per notebook, ``01_simulate`` → ``run_simulate`` and so on.

Each reads through ``lakehouse``, calls pure transforms, writes through ``lakehouse``, records
its step in ``ops_run_steps`` and returns a small summary that becomes the notebook exit value.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from altaviz import bronze, gold, lakehouse, quality, silver, simulate
from altaviz.alerts import to_alert_episodes, to_sensor_levels_long
from altaviz.config import AltavizConfig, FailureSpec, load_config
from altaviz.lakehouse import Lakehouse
from altaviz.schemas import (
    GOLD_DATA_QUALITY,
    GROUND_TRUTH,
    OPS_RUN_STEPS,
    RAW_COMPRESSORS,
    RAW_SENSOR_READINGS,
    RAW_STATIONS,
    SILVER_QUARANTINE_READINGS,
    SILVER_RULE_COUNTS,
    SILVER_SENSOR_READINGS,
    TABLES,
)

log = logging.getLogger("altaviz.jobs")

# Raw landing folders under Files/raw and the bronze table each one feeds.
RAW_SOURCES = {
    "sensor_readings": (RAW_SENSOR_READINGS, "bronze_sensor_readings"),
    "stations": (RAW_STATIONS, "bronze_stations"),
    "compressors": (RAW_COMPRESSORS, "bronze_compressors"),
}


@dataclass
class StepRecord:
    rows_in: int = 0
    rows_out: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded_step(spark: SparkSession, lh: Lakehouse, run_id: str, step: str) -> Iterator[StepRecord]:
    """Times a step and writes its row in ``ops_run_steps`` (only when it succeeds: a failed
    notebook is reported by the pipeline that ran it)."""
    record = StepRecord()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    yield record
    finished = datetime.now(UTC)
    row = (
        run_id,
        step,
        "succeeded",
        started,
        finished,
        round(time.perf_counter() - t0, 3),
        record.rows_in,
        record.rows_out,
        json.dumps(record.detail, default=str, sort_keys=True),
    )
    lakehouse.upsert(spark.createDataFrame([row], OPS_RUN_STEPS), lh, "ops_run_steps", TABLES["ops_run_steps"].key)


def _setup(lakehouse_root: str, config_path: str) -> tuple[Lakehouse, AltavizConfig]:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    return Lakehouse.default(lakehouse_root), load_config(config_path or None)


# ---------------------------------------------------------------- 01_simulate


def _simulation_start(run_date: str, start: str, days: float) -> datetime:
    """An explicit start wins; otherwise the window ends at midnight UTC of the run date (default today)."""
    if start:
        parsed = datetime.fromisoformat(start.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
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
                f"failure_schedule must be a JSON list of {{compressor_id, degradation_start_day, failure_day}}: {err}"
            ) from err
    else:
        specs = config.simulation.failures
    outside = sorted(f.compressor_id for f in specs if f.compressor_id not in fleet_ids)
    if outside:
        log.warning("failure schedule names units outside this fleet, ignored: %s", ", ".join(outside))
    return tuple(f for f in specs if f.compressor_id in fleet_ids)


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
    lakehouse_root: str = "",
    config_path: str = "",
) -> dict[str, Any]:
    """Lands one simulated batch under Files/raw (readings, registry, ground truth). Zero / empty
    parameters take the configured defaults; the same parameters land the same batch once."""
    lh, config = _setup(lakehouse_root, config_path)
    sim = config.simulation
    n_compressors = n_compressors or sim.n_compressors
    n_stations = n_stations or sim.n_stations
    days = days or sim.days
    stations = simulate.fleet_stations(config, n_stations, sim.seed if seed < 0 else seed)
    compressors = simulate.fleet_compressors(config, n_compressors, stations, sim.seed if seed < 0 else seed)
    plan = simulate.SimulationPlan(
        start=_simulation_start(run_date, start, days),
        days=days,
        interval_minutes=interval_minutes or sim.interval_minutes,
        n_compressors=n_compressors,
        n_stations=n_stations,
        seed=sim.seed if seed < 0 else seed,
        failures=_failure_schedule(failure_schedule, config, {c["compressor_id"] for c in compressors}),
    )
    readings_dir = lh.files_path(f"raw/sensor_readings/batch-{plan.batch_id}")
    summary: dict[str, Any] = {"batch_id": plan.batch_id, "start": plan.start.isoformat(), "rows": 0}
    with recorded_step(spark, lh, run_id, "01_simulate") as step:
        if lakehouse.path_exists(spark, f"{readings_dir}/_SUCCESS"):
            log.info("batch %s already landed at %s: nothing to do", plan.batch_id, readings_dir)
            summary["skipped"] = True
        else:
            # Registry and answer key first; the readings' _SUCCESS marks the batch complete.
            batch = f"batch-{plan.batch_id}"
            simulate.stations_frame(spark, stations).coalesce(1).write.mode("overwrite").parquet(
                lh.files_path(f"raw/stations/{batch}")
            )
            simulate.compressors_frame(spark, compressors).coalesce(1).write.mode("overwrite").parquet(
                lh.files_path(f"raw/compressors/{batch}")
            )
            spark.createDataFrame(simulate.ground_truth(plan), GROUND_TRUTH).coalesce(1).write.mode(
                "overwrite"
            ).parquet(lh.files_path(f"raw/ground_truth/{batch}"))
            n_rows = n_compressors * plan.n_steps
            simulate.simulate_readings(spark, plan, compressors).repartition(max(1, n_rows // 2_000_000)).write.mode(
                "overwrite"
            ).parquet(readings_dir)
            summary["rows"] = n_rows
            log.info("landed %d readings for %d compressors in %s", n_rows, n_compressors, readings_dir)
        step.rows_out = summary["rows"]
        step.detail = dict(summary)
    return summary


# ---------------------------------------------------------------- 02_bronze


def _ingested_files(spark: SparkSession, lh: Lakehouse, table: str) -> set[str]:
    if not lakehouse.table_exists(spark, lh, table):
        return set()
    return {r[0] for r in lakehouse.read_table(spark, lh, table).select("_source_file").distinct().collect()}


def _landed_files(spark: SparkSession, lh: Lakehouse, source: str) -> list[str]:
    folder = lh.files_path(f"raw/{source}")
    if not lakehouse.path_exists(spark, folder):
        return []
    schema = RAW_SOURCES[source][0]
    listing = spark.read.schema(schema).option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet")
    return sorted(listing.parquet(folder).inputFiles())


def run_bronze(spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "") -> dict[str, Any]:
    """Appends every raw file not yet ingested to its bronze table, with ingestion metadata."""
    lh, _ = _setup(lakehouse_root, config_path)
    ingested_at = datetime.now(UTC)
    summary: dict[str, Any] = {}
    with recorded_step(spark, lh, run_id, "02_bronze") as step:
        for source, (schema, table) in RAW_SOURCES.items():
            already = _ingested_files(spark, lh, table)
            new_files = [f for f in _landed_files(spark, lh, source) if f not in already]
            if not new_files:
                log.info("%s: no new files", source)
                summary[table] = 0
                continue
            landed = (
                spark.read.schema(schema).parquet(*new_files).withColumn("_source_file", F.col("_metadata.file_path"))
            )
            rows = bronze.with_ingest_metadata(landed, schema.fieldNames(), run_id, ingested_at)
            summary[table] = lakehouse.insert_new(rows, lh, table, TABLES[table].key)
            log.info("%s: %d new files, %d rows", source, len(new_files), summary[table])
        step.rows_out = summary["bronze_sensor_readings"]
        step.detail = summary
    return summary


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
        latest = silver.to_latest_registry(lakehouse.read_table(spark, lh, source), key, schema.fieldNames())
        lakehouse.upsert(latest, lh, f"silver_{entity}", (key,))
    return lakehouse.read_table(spark, lh, "silver_compressors")


def run_silver(
    spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "", now: str = ""
) -> dict[str, Any]:
    """Validates bronze rows not yet judged; valid rows merge into silver, failures into quarantine."""
    lh, config = _setup(lakehouse_root, config_path)
    judged_at = datetime.fromisoformat(now) if now else datetime.now(UTC)
    with recorded_step(spark, lh, run_id, "03_silver") as step:
        compressors = _refresh_registries(spark, lh)
        bronze_rows = lakehouse.read_table(spark, lh, "bronze_sensor_readings")
        existing = lakehouse.read_table_or_empty(spark, lh, "silver_sensor_readings", SILVER_SENSOR_READINGS)
        quarantined = lakehouse.read_table_or_empty(spark, lh, "silver_quarantine_readings", SILVER_QUARANTINE_READINGS)
        candidates = bronze_rows.join(existing.select("_record_id"), "_record_id", "left_anti").join(
            quarantined.select("_record_id"), "_record_id", "left_anti"
        )
        span = candidates.agg(F.min("timestamp").alias("lo"), F.max("timestamp").alias("hi")).first()
        half = timedelta(hours=config.validation.outlier_window_hours / 2)
        history = existing.limit(0)
        if span["lo"] is not None:
            history = existing.filter(F.col("timestamp").between(span["lo"] - half, span["hi"] + half))
        # Materialised: silver is written below, and a lazy plan would re-read it and judge again.
        judged = (
            candidates.transform(silver.with_row_rule_flags, compressors, config.validation, judged_at)
            .transform(silver.with_duplicate_flag, existing)
            .transform(silver.with_outlier_flag, history, config.validation)
            .transform(silver.with_failed_rules)
            .localCheckpoint(eager=True)
        )
        step.rows_in = judged.count()
        valid = bad = 0
        if step.rows_in:  # a rerun with nothing new writes nothing but this run's zero counts
            valid = lakehouse.insert_new(
                silver.filter_valid_readings(judged, run_id), lh, "silver_sensor_readings", silver.KEY
            )
            bad = lakehouse.insert_new(
                silver.filter_quarantined_readings(judged, run_id), lh, "silver_quarantine_readings", ("_record_id",)
            )
        counts = spark.createDataFrame(silver.to_rule_counts(judged, run_id, judged_at).collect(), SILVER_RULE_COUNTS)
        lakehouse.upsert(counts, lh, "silver_rule_counts", TABLES["silver_rule_counts"].key)
        rule_counts = {r["rule"]: r["failed_rows"] for r in counts.collect()}
        step.rows_out = valid
        step.detail = {"validated": step.rows_in, "valid": valid, "quarantined": bad, "rules": rule_counts}
        log.info("silver: %d judged, %d valid, %d quarantined %s", step.rows_in, valid, bad, rule_counts)
    return dict(step.detail)


# ---------------------------------------------------------------- 04_gold


def run_gold(spark: SparkSession, *, run_id: str, lakehouse_root: str = "", config_path: str = "") -> dict[str, Any]:
    """Recomputes features, hourly aggregates and alert episodes from silver; records data quality."""
    lh, config = _setup(lakehouse_root, config_path)
    measured_at = datetime.now(UTC)
    with recorded_step(spark, lh, run_id, "04_gold") as step:
        readings = lakehouse.read_table(spark, lh, "silver_sensor_readings")
        compressors = lakehouse.read_table(spark, lh, "silver_compressors")
        features = gold.to_sensor_features(readings, compressors, config).localCheckpoint(eager=True)
        hourly = gold.to_hourly_readings(features)
        episodes = to_alert_episodes(to_sensor_levels_long(features, config.thresholds))
        written = {
            "gold_sensor_features": lakehouse.overwrite(features, lh, "gold_sensor_features"),
            "gold_hourly_readings": lakehouse.overwrite(hourly, lh, "gold_hourly_readings"),
            "gold_alert_episodes": lakehouse.overwrite(episodes, lh, "gold_alert_episodes"),
        }
        bronze_rows = lakehouse.read_table(spark, lh, "bronze_sensor_readings")
        quarantined = lakehouse.read_table_or_empty(spark, lh, "silver_quarantine_readings", SILVER_QUARANTINE_READINGS)
        metrics = (
            quality.bronze_quality(bronze_rows, run_id, measured_at)
            .unionByName(
                quality.silver_quality(
                    bronze_rows,
                    readings,
                    quarantined,
                    compressors,
                    config.windows.reading_interval_minutes,
                    run_id,
                    measured_at,
                )
            )
            .unionByName(
                quality.hourly_quality(
                    lakehouse.read_table(spark, lh, "gold_hourly_readings"), compressors, run_id, measured_at
                )
            )
        )
        # A handful of rows: computed once here, then written and summarised from the driver.
        measured = metrics.collect()
        lakehouse.upsert(
            spark.createDataFrame(measured, GOLD_DATA_QUALITY), lh, "gold_data_quality", TABLES["gold_data_quality"].key
        )
        summary = (
            lakehouse.read_table(spark, lh, "gold_alert_episodes")
            .agg(
                F.count(F.lit(1)).alias("episodes"),
                F.count(F.when(F.col("severity") == "critical", 1)).alias("critical"),
                F.count(F.when(F.col("is_active"), 1)).alias("active"),
            )
            .first()
        )
        step.rows_in = written["gold_sensor_features"]
        step.rows_out = written["gold_hourly_readings"]
        step.detail = {
            **written,
            "alert_episodes": summary["episodes"],
            "critical_episodes": summary["critical"],
            "active_episodes": summary["active"],
            "quality": {f"{r['table_name']}.{r['metric']}": r["metric_value"] for r in measured},
        }
    return dict(step.detail)


# ---------------------------------------------------------------- 05_publish


def run_publish(
    spark: SparkSession,
    *,
    run_id: str,
    lakehouse_root: str = "",
    config_path: str = "",
    target: str = "",
    sql_server: str = "",
    sql_database: str = "",
    semantic_model: str = "",
) -> dict[str, Any]:
    """Upserts the serving tables into the configured database (embedded PostgreSQL by default),
    then, in Fabric, refreshes the lakehouse SQL endpoint metadata and the named semantic model.

    ``sql_server`` / ``sql_database`` override ``AZURE_SQL_SERVER`` / ``AZURE_SQL_DATABASE``: a Fabric
    notebook has no environment variables of its own, so the pipeline passes them as parameters.
    """
    from altaviz.publish import open_serving_database, publish_run_log, publish_tables
    from altaviz.publish.semantic_link import refresh_after_publish

    lh, config = _setup(lakehouse_root, config_path)
    settings = {"AZURE_SQL_SERVER": sql_server, "AZURE_SQL_DATABASE": sql_database}
    with open_serving_database(target, settings) as db:
        with recorded_step(spark, lh, run_id, "05_publish") as step:
            published = publish_tables(spark, lh, config, db, run_id)
            step.rows_out = sum(published.values())
            step.detail = {"target": db.describe(), **published}
        # After the step is recorded, so the run log in the database includes publishing itself.
        publish_run_log(spark, lh, db, run_id)
    return {**step.detail, "refresh": refresh_after_publish(semantic_model)}
