"""05_publish: the serving tables, built from the lakehouse and upserted into the serving database.

The target is chosen by configuration, never by code: ``DB_TYPE=azure_sql`` publishes to Azure SQL,
otherwise PostgreSQL at ``DATABASE_URL``, or the embedded PostgreSQL when nothing is configured.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampType

from altaviz import lakehouse
from altaviz.config import AltavizConfig
from altaviz.lakehouse import Lakehouse

log = logging.getLogger("altaviz.publish")


class ServingDatabase(Protocol):
    def describe(self) -> str: ...

    def apply_schema(self) -> None: ...

    def upsert(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        rows: Iterable[Sequence[object]],
        touch_updated_at: bool,
    ) -> int: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ServingTable:
    """A serving table as the pipeline writes it: only pipeline-owned columns are listed."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    touch_updated_at: bool = True


SERVING_TABLES = {
    t.name: t
    for t in (
        ServingTable(
            "stations", ("station_id",), ("station_id", "station_name", "basin", "city", "latitude", "longitude")
        ),
        ServingTable(
            "compressors",
            ("compressor_id",),
            ("compressor_id", "station_id", "model", "rated_horsepower", "install_date"),
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
        ),
        ServingTable(
            "data_quality_metrics",
            ("run_id", "table_name", "metric"),
            ("run_id", "table_name", "metric", "metric_value", "measured_at"),
            touch_updated_at=False,
        ),
        ServingTable(
            "quarantine_rule_counts",
            ("run_id", "rule"),
            ("run_id", "rule", "failed_rows", "measured_at"),
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
        if not url:
            from altaviz.publish.embedded import start_embedded_postgres

            url = start_embedded_postgres()
        db = PostgresDatabase(url)
    elif kind == "azure_sql":
        from altaviz.publish.azure_sql import AzureSqlDatabase

        db = AzureSqlDatabase.from_environment(settings)
    else:
        raise ValueError(f"unknown serving database {kind!r}: use 'postgres' or 'azure_sql' (DB_TYPE)")
    try:
        db.apply_schema()
        yield db
    finally:
        db.close()


def _serving_rows(df: DataFrame, columns: Sequence[str]) -> Iterator[tuple]:
    """Streams rows to the driver; timestamps as ISO-8601 text with offset, so no client timezone
    can shift them on the way into the database."""
    types = {f.name: f.dataType for f in df.schema.fields}
    exprs = [
        F.date_format(c, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX").alias(c)
        if isinstance(types[c], TimestampType)
        else F.col(c)
        for c in columns
    ]
    for row in df.select(*exprs).toLocalIterator():
        yield tuple(row)


def _thresholds_frame(spark: SparkSession, config: AltavizConfig) -> DataFrame:
    rows = [(s, t.direction, float(t.warning), float(t.critical), t.unit) for s, t in config.thresholds.items()]
    return spark.createDataFrame(rows, "sensor string, direction string, warning double, critical double, unit string")


def serving_frames(spark: SparkSession, lh: Lakehouse, config: AltavizConfig, run_id: str) -> dict[str, DataFrame]:
    """Lakehouse table → serving table, in foreign-key order."""
    read = lambda name: lakehouse.read_table(spark, lh, name)  # noqa: E731
    this_run = F.col("run_id") == run_id
    return {
        "stations": read("silver_stations"),
        "compressors": read("silver_compressors"),
        "sensor_thresholds": _thresholds_frame(spark, config),
        "hourly_readings": read("gold_hourly_readings"),
        "alerts": read("gold_alert_episodes"),
        "data_quality_metrics": read("gold_data_quality").filter(this_run),
        "quarantine_rule_counts": read("silver_rule_counts").filter(this_run),
    }


def publish_tables(
    spark: SparkSession, lh: Lakehouse, config: AltavizConfig, db: ServingDatabase, run_id: str
) -> dict[str, int]:
    """Upserts every serving table; returns rows inserted or changed per table."""
    changed = {}
    for name, frame in serving_frames(spark, lh, config, run_id).items():
        table = SERVING_TABLES[name]
        changed[name] = db.upsert(
            table.name, table.columns, table.key, _serving_rows(frame, table.columns), table.touch_updated_at
        )
        log.info("published %s: %d rows inserted or changed", name, changed[name])
    return changed


def publish_run_log(spark: SparkSession, lh: Lakehouse, db: ServingDatabase, run_id: str) -> None:
    """The run and its steps, from ``ops_run_steps``, for the dashboard's pipeline view."""
    steps = lakehouse.read_table(spark, lh, "ops_run_steps").filter(F.col("run_id") == run_id)
    run = steps.groupBy("run_id").agg(
        F.lit("succeeded").alias("status"),
        F.min("started_at").alias("started_at"),
        F.max("finished_at").alias("finished_at"),
        F.round(F.sum("duration_s"), 3).alias("duration_s"),
    )
    for name, frame in (("pipeline_runs", run), ("pipeline_run_steps", steps)):
        table = SERVING_TABLES[name]
        db.upsert(table.name, table.columns, table.key, _serving_rows(frame, table.columns), table.touch_updated_at)
