"""05_publish: what changed in the lakehouse since the last publish, upserted into the serving database.

The target is chosen by configuration, never by code: ``DB_TYPE=azure_sql`` publishes to Azure SQL,
``DB_TYPE=fabric_sql`` to a SQL database in Fabric (same T-SQL publisher),
otherwise PostgreSQL at ``DATABASE_URL``, or the embedded PostgreSQL when nothing is configured.

Each serving table comes from one lakehouse table. The serving database remembers, per source table,
the Delta version it last published (``publish_watermarks``); a publish reads the change data feed
from there to the current version, so its cost follows the change, not the history. A database that
has never seen this lakehouse (no watermark, or the source table was recreated) gets a full snapshot.
Every table and its watermark are written in one transaction: a dashboard never sees half a publish,
and a publish that fails leaves the watermark where it was, so the next one sends the changes again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from altaviz import lakehouse, runtime
from altaviz.config import AltavizConfig
from altaviz.lakehouse import Lakehouse

log = logging.getLogger("altaviz.publish")


class ServingDatabase(Protocol):
    def describe(self) -> str: ...

    def apply_schema(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...

    def upsert(
        self, table: str, columns: Sequence[str], key: Sequence[str], rows: pa.Table, touch_updated_at: bool
    ) -> int:
        """Inserts new keys and updates changed rows; returns rows inserted or changed."""
        ...

    def delete(self, table: str, key: Sequence[str], keys: pa.Table, unless_referenced_by: str | None) -> int: ...

    def watermark(self, source: str) -> tuple[str, int] | None:
        """(Delta table id, version) last published from ``source``, if any."""
        ...

    def set_watermark(self, source: str, table_id: str, version: int) -> None: ...

    def refresh_latest_readings(self, columns: Sequence[str]) -> int:
        """``latest_readings`` := the newest ``hourly_readings`` row per compressor; returns rows
        inserted, changed or deleted (a refresh that finds nothing newer changes nothing)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ServingTable:
    """A serving table as the pipeline writes it: only pipeline-owned columns are listed."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    # The lakehouse table it mirrors (None: built by the publisher itself).
    source: str | None = None
    touch_updated_at: bool = True
    # A table whose rows reference this one: a row something references is kept when its source
    # row is deleted (an alert an operator acted on keeps its audit trail).
    referenced_by: str | None = None


SERVING_TABLES = {
    t.name: t
    for t in (
        ServingTable(
            "stations",
            ("station_id",),
            ("station_id", "station_name", "basin", "city", "latitude", "longitude"),
            source="silver_stations",
        ),
        ServingTable(
            "compressors",
            ("compressor_id",),
            ("compressor_id", "station_id", "model", "rated_horsepower", "install_date"),
            source="silver_compressors",
        ),
        ServingTable("sensor_thresholds", ("sensor",), ("sensor", "direction", "warning", "critical", "unit")),
        ServingTable(
            "hourly_readings",
            ("compressor_id", "hour_start"),
            (
                "compressor_id",
                "hour_start",
                "reading_count",
                "vibration_mean",
                "vibration_max",
                "discharge_temp_mean",
                "discharge_temp_max",
                "suction_pressure_mean",
                "suction_pressure_min",
                "discharge_pressure_mean",
                "discharge_pressure_max",
                "pressure_differential_mean",
                "horsepower_mean",
                "gas_flow_mean",
                "vibration_status",
                "temp_status",
                "pressure_status",
                "health_status",
            ),
            source="gold_hourly_readings",
        ),
        ServingTable(
            "predictions",
            ("compressor_id", "hour_start"),
            (
                "compressor_id",
                "hour_start",
                "failure_probability_72h",
                "rul_hours",
                "model_name",
                "model_version",
                "scored_at",
            ),
            source="gold_predictions",
        ),
        # Operator-owned columns (status, acknowledged_*, resolved_*, operator_note) are absent on
        # purpose: a republish can never undo an acknowledgement.
        ServingTable(
            "alerts",
            ("alert_id",),
            (
                "alert_id",
                "compressor_id",
                "sensor",
                "source",
                "severity",
                "current_severity",
                "is_active",
                "opened_at",
                "escalated_at",
                "cleared_at",
                "last_reading_at",
                "threshold_value",
                "peak_value",
                "last_value",
                "reading_count",
            ),
            source="gold_alert_episodes",
            referenced_by="alert_events",
        ),
        ServingTable(
            "data_quality_metrics",
            ("run_id", "table_name", "metric"),
            ("run_id", "table_name", "metric", "metric_value", "measured_at"),
            source="gold_data_quality",
            touch_updated_at=False,
        ),
        ServingTable(
            "quarantine_rule_counts",
            ("run_id", "rule"),
            ("run_id", "rule", "failed_rows", "measured_at"),
            source="silver_rule_counts",
            touch_updated_at=False,
        ),
        ServingTable("pipeline_runs", ("run_id",), ("run_id", "status", "started_at", "finished_at", "duration_s")),
        ServingTable(
            "pipeline_run_steps",
            ("run_id", "step"),
            ("run_id", "step", "status", "started_at", "finished_at", "duration_s", "rows_in", "rows_out", "detail"),
            touch_updated_at=False,
        ),
    )
}


# Derived inside the serving database after every publish (not from the lakehouse): the newest hour
# per compressor, so a dashboard's fleet views read one row per unit instead of probing 2 M rows.
LATEST_READINGS_COLUMNS = (*SERVING_TABLES["hourly_readings"].columns, "updated_at")


@contextmanager
def open_serving_database(target: str = "", settings: Mapping[str, str] | None = None) -> Iterator[ServingDatabase]:
    """The configured serving database, schema applied. ``target`` overrides ``DB_TYPE``;
    ``settings`` (environment-variable names, e.g. ``AZURE_SQL_SERVER``) override the environment,
    which is how a Fabric notebook, having no environment of its own, passes pipeline parameters."""
    kind = (target or os.environ.get("DB_TYPE") or "postgres").lower()
    db: ServingDatabase
    if kind in ("postgres", "postgresql"):
        from altaviz.publish.postgres import PostgresDatabase

        url = os.environ.get("DATABASE_URL")
        if not url and runtime.in_fabric():
            raise ValueError(
                "no serving database for this Fabric run: set the pipeline parameters serving_target=azure_sql "
                "(or fabric_sql), "
                "sql_server and sql_database (the embedded PostgreSQL exists only in local runs)"
            )
        if not url:
            from altaviz.publish.embedded import start_embedded_postgres

            url = start_embedded_postgres()
        db = PostgresDatabase(url)
    elif kind in ("azure_sql", "fabric_sql"):
        from altaviz.publish.azure_sql import AzureSqlDatabase

        db = AzureSqlDatabase.from_environment(settings, kind)
    else:
        raise ValueError(f"unknown serving database {kind!r}: use 'postgres', 'azure_sql' or 'fabric_sql' (DB_TYPE)")
    try:
        db.apply_schema()
        yield db
    finally:
        db.close()


def to_arrow(df: DataFrame, columns: Sequence[str]) -> pa.Table:
    """The frame's ``columns`` as an Arrow table (timestamps in UTC), built by Spark's Arrow transfer."""
    return df.select(*columns).toArrow()


def to_latest_changes(changes: DataFrame, key: Sequence[str]) -> DataFrame:
    """Change-feed rows → the last change per key (``_change_type`` insert, update_postimage or delete)."""
    newest = Window.partitionBy(*key).orderBy(F.col("_commit_version").desc())
    return changes.withColumn("_rank", F.row_number().over(newest)).filter("_rank = 1").drop("_rank")


def _thresholds_frame(spark: SparkSession, config: AltavizConfig) -> DataFrame:
    rows = [(s, t.direction, float(t.warning), float(t.critical), t.unit) for s, t in config.thresholds.items()]
    return spark.createDataFrame(rows, "sensor string, direction string, warning double, critical double, unit string")


def serving_frame(spark: SparkSession, lh: Lakehouse, config: AltavizConfig, name: str) -> DataFrame:
    """What the serving table ``name`` mirrors, in its columns: its lakehouse source's current rows
    (the thresholds: from the config). What a first publish sends; a look at it needs no database."""
    table = SERVING_TABLES[name]
    if name == "sensor_thresholds":
        return _thresholds_frame(spark, config)
    if table.source is None:
        raise ValueError(f"serving table {name!r} is built by the publisher, not mirrored from the lakehouse")
    return lakehouse.read(spark, lh, table.source).select(*table.columns)


def _publish_source(spark: SparkSession, lh: Lakehouse, db: ServingDatabase, table: ServingTable) -> int:
    """Upserts (and deletes) what changed in ``table.source`` since the last publish; moves its watermark."""
    assert table.source is not None
    found = lakehouse.identity(spark, lh, table.source)
    if found is None:
        return 0
    table_id, current = found
    mark = db.watermark(table.source)
    if mark is not None and mark[0] == table_id and mark[1] == current:
        return 0
    if mark is not None and mark[0] == table_id and mark[1] < current:
        try:
            latest = to_latest_changes(lakehouse.read_changes(spark, lh, table.source, mark[1], current), table.key)
            latest = latest.persist()
            upserts = to_arrow(latest.filter(F.col("_change_type") != "delete"), table.columns)
            deletes = to_arrow(latest.filter(F.col("_change_type") == "delete"), table.key)
            latest.unpersist()
        except Exception as err:  # change files vacuumed, or the feed not on for those versions
            log.warning(
                "%s: change feed from version %d unavailable (%s); publishing a full snapshot",
                table.source,
                mark[1],
                err,
            )
            upserts, deletes = to_arrow(lakehouse.read_version(spark, lh, table.source, current), table.columns), None
    else:
        upserts, deletes = to_arrow(lakehouse.read_version(spark, lh, table.source, current), table.columns), None
    changed = db.upsert(table.name, table.columns, table.key, upserts, table.touch_updated_at)
    if deletes is not None and deletes.num_rows:
        changed += db.delete(table.name, table.key, deletes, table.referenced_by)
    db.set_watermark(table.source, table_id, current)
    return changed


def publish_tables(
    spark: SparkSession, lh: Lakehouse, config: AltavizConfig, db: ServingDatabase, run_id: str
) -> dict[str, int]:
    """Publishes every serving table that mirrors the lakehouse, in foreign-key order and in one
    transaction; returns rows inserted, changed or deleted per table."""
    changed: dict[str, int] = {}
    with db.transaction():
        for table in SERVING_TABLES.values():
            if table.name == "sensor_thresholds":
                thresholds = to_arrow(_thresholds_frame(spark, config), table.columns)
                changed[table.name] = db.upsert(
                    table.name, table.columns, table.key, thresholds, table.touch_updated_at
                )
            elif table.source is not None:
                changed[table.name] = _publish_source(spark, lh, db, table)
            else:
                continue
            log.info("published %s: %d rows inserted, changed or deleted", table.name, changed[table.name])
        # In the same transaction: a reader never sees hourly rows newer than the latest row it is shown.
        changed["latest_readings"] = db.refresh_latest_readings(LATEST_READINGS_COLUMNS)
        log.info("refreshed latest_readings: %d rows inserted, changed or deleted", changed["latest_readings"])
    return changed


def run_log_frames(steps: DataFrame, run_id: str) -> tuple[DataFrame, DataFrame]:
    """The run's row (failed when any step failed) and its steps (one per step; a failure row
    recorded by ``09_record_failure`` wins over a success row the same step wrote before failing)."""
    mine = steps.filter(F.col("run_id") == run_id)
    worst_first = Window.partitionBy("run_id", "step").orderBy(
        F.when(F.col("status") == "failed", 0).otherwise(1), F.col("finished_at").desc()
    )
    one_per_step = mine.withColumn("_rank", F.row_number().over(worst_first)).filter("_rank = 1").drop("_rank")
    run = one_per_step.groupBy("run_id").agg(
        F.when(F.max(F.when(F.col("status") == "failed", 1).otherwise(0)) == 1, F.lit("failed"))
        .otherwise(F.lit("succeeded"))
        .alias("status"),
        F.min("started_at").alias("started_at"),
        F.max("finished_at").alias("finished_at"),
        F.round(F.sum("duration_s"), 3).alias("duration_s"),
    )
    return run, one_per_step


def publish_run_log(spark: SparkSession, lh: Lakehouse, db: ServingDatabase, run_id: str) -> None:
    """The run and its steps, from ``ops_run_steps``, for the dashboard's pipeline view."""
    run, steps = run_log_frames(lakehouse.read(spark, lh, "ops_run_steps"), run_id)
    with db.transaction():
        for name, frame in (("pipeline_runs", run), ("pipeline_run_steps", steps)):
            table = SERVING_TABLES[name]
            db.upsert(table.name, table.columns, table.key, to_arrow(frame, table.columns), table.touch_updated_at)
