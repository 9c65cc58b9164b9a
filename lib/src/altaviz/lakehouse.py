"""Where tables and files live, and the only code that reads or writes them.

Paths are ``<root>/Tables/<name>`` and ``<root>/Files/<path>``. In Fabric the root is empty and
the notebook's default lakehouse resolves them; locally it is a folder laid out the same way.
Transforms never see a path: jobs read through here, call pure functions, write through here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from altaviz import runtime

log = logging.getLogger("altaviz.lakehouse")


@dataclass(frozen=True)
class Lakehouse:
    root: str

    @classmethod
    def default(cls, root: str | None = None) -> Lakehouse:
        return cls(runtime.lakehouse_root() if root is None or root == "" else root.rstrip("/"))

    def _join(self, *parts: str) -> str:
        return "/".join(p for p in (self.root, *parts) if p)

    def table_path(self, name: str) -> str:
        return self._join("Tables", name)

    def files_path(self, relative: str) -> str:
        return self._join("Files", relative.strip("/"))


def path_exists(spark: SparkSession, path: str) -> bool:
    """True when a file or folder exists, through Hadoop's file system (local disk or OneLake)."""
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[attr-defined]
    return bool(fs.exists(hadoop_path))


def table_exists(spark: SparkSession, lakehouse: Lakehouse, name: str) -> bool:
    return DeltaTable.isDeltaTable(spark, lakehouse.table_path(name))


def read_table(spark: SparkSession, lakehouse: Lakehouse, name: str) -> DataFrame:
    return spark.read.format("delta").load(lakehouse.table_path(name))


def read_table_or_empty(spark: SparkSession, lakehouse: Lakehouse, name: str, schema: StructType) -> DataFrame:
    """The table, or an empty frame of its schema before its first write (first run)."""
    if table_exists(spark, lakehouse, name):
        return read_table(spark, lakehouse, name)
    return spark.createDataFrame([], schema)


def ensure_table(spark: SparkSession, lakehouse: Lakehouse, name: str, schema: StructType) -> DeltaTable:
    return DeltaTable.createIfNotExists(spark).location(lakehouse.table_path(name)).addColumns(schema).execute()


def _merge_condition(key: tuple[str, ...]) -> str:
    return " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)


def overwrite(df: DataFrame, lakehouse: Lakehouse, name: str) -> int:
    """Replace a derived table whole (gold is recomputed from silver, so a rerun writes the same rows)."""
    spark = df.sparkSession
    df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(lakehouse.table_path(name))
    metrics = DeltaTable.forPath(spark, lakehouse.table_path(name)).history(1).select("operationMetrics").first()[0]
    rows = int((metrics or {}).get("numOutputRows", 0))
    log.info("overwrote Tables/%s: %d rows", name, rows)
    return rows


def insert_new(df: DataFrame, lakehouse: Lakehouse, name: str, key: tuple[str, ...]) -> int:
    """Insert rows whose key the table lacks; rows already present are left exactly as they are.

    MERGE rather than append, so a retried or repeated step can never duplicate a key.
    """
    table = ensure_table(df.sparkSession, lakehouse, name, df.schema)
    result = table.alias("t").merge(df.alias("s"), _merge_condition(key)).whenNotMatchedInsertAll().execute()
    rows = int(result.first()["num_inserted_rows"])
    log.info("merged into Tables/%s: %d new rows", name, rows)
    return rows


def upsert(df: DataFrame, lakehouse: Lakehouse, name: str, key: tuple[str, ...]) -> int:
    """Insert new keys and update existing rows whose values differ (registries, per-run metrics).

    Identical rows are not rewritten, so an unchanged registry costs no new files.
    """
    table = ensure_table(df.sparkSession, lakehouse, name, df.schema)
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in df.columns if c not in key)
    merge = table.alias("t").merge(df.alias("s"), _merge_condition(key))
    result = merge.whenMatchedUpdateAll(condition=differs or None).whenNotMatchedInsertAll().execute().first()
    rows = int(result["num_inserted_rows"]) + int(result["num_updated_rows"])
    log.info("upserted Tables/%s: %d rows inserted or updated", name, rows)
    return rows
