"""Where tables and files live, and the only code that reads or writes them.

Paths are ``<root>/Tables/<name>`` and ``<root>/Files/<path>``. In Fabric the root is empty and
the notebook's default lakehouse resolves them; locally it is a folder laid out the same way.
Transforms never see a path: jobs read through here, call pure functions, write through here.
Every write checks the frame against the table's declared schema (``schemas.TABLES``) and logs the
rows it wrote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from altaviz import runtime
from altaviz.schemas import TABLES, TableSpec

log = logging.getLogger("altaviz.lakehouse")

# How long Delta remembers idempotent-write transaction ids (txnAppId/txnVersion): long enough for
# any retry of a run, short enough that the log does not carry every run forever.
TXN_RETENTION = "interval 30 days"


class SchemaMismatchError(ValueError):
    """A frame does not have the columns and types its table declares."""


@dataclass(frozen=True)
class Lakehouse:
    root: str
    # A notebook run with write=False: every write checks its frame against the table's schema and
    # counts its rows, then writes nothing (no table, no file, no stream checkpoint moves).
    read_only: bool = False

    @classmethod
    def default(cls, root: str | None = None) -> Lakehouse:
        return cls(runtime.lakehouse_root() if root is None or root == "" else root.rstrip("/"))

    def _join(self, *parts: str) -> str:
        return "/".join(p for p in (self.root, *parts) if p)

    def table_path(self, name: str) -> str:
        return self._join("Tables", name)

    def files_path(self, relative: str) -> str:
        return self._join("Files", relative.strip("/"))

    def without_writes(self) -> Lakehouse:
        """The same lakehouse, read-only: writes are checked and counted, never made."""
        return replace(self, read_only=True)

    def checkpoint_path(self, stream: str) -> str:
        """Where a stream keeps its progress (which files or table versions it has processed)."""
        return self.files_path(f"checkpoints/{stream}")


# ---------------------------------------------------------------- files


def _filesystem(spark: SparkSession, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path  # type: ignore[attr-defined]


def path_exists(spark: SparkSession, path: str) -> bool:
    """True when a file or folder exists, through Hadoop's file system (local disk or OneLake)."""
    fs, hadoop_path = _filesystem(spark, path)
    return bool(fs.exists(hadoop_path))


def read_text(spark: SparkSession, path: str) -> str | None:
    """A small text file's content, or None when it does not exist."""
    fs, hadoop_path = _filesystem(spark, path)
    if not fs.exists(hadoop_path):
        return None
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    stream = fs.open(hadoop_path)
    try:
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def list_files(spark: SparkSession, folder: str) -> list[tuple[str, int, int]]:
    """Every file under ``folder`` (any depth) as (path, size in bytes, modification time in epoch
    milliseconds), through Hadoop's file system; files and folders whose name starts with ``_`` or
    ``.`` (markers, checksums, hidden uploads) are left out, as Spark's readers leave them out."""
    fs, hadoop_path = _filesystem(spark, folder)
    if not fs.exists(hadoop_path):
        return []
    root = str(fs.makeQualified(hadoop_path).toUri().getPath()).rstrip("/")
    found = []
    files = fs.listFiles(hadoop_path, True)
    while files.hasNext():
        status = files.next()
        path = status.getPath()
        inside = str(path.toUri().getPath())[len(root) :].strip("/").split("/")
        if any(part.startswith(("_", ".")) for part in inside):
            continue
        found.append((str(path), int(status.getLen()), int(status.getModificationTime())))
    return found


def write_text(spark: SparkSession, path: str, text: str, *, read_only: bool = False) -> None:
    """Writes a small text file whole (through a temporary name, so readers never see half of it)."""
    if read_only:
        log.info("write=False: not writing %s", path)
        return
    fs, hadoop_path = _filesystem(spark, path)
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    partial = jvm.org.apache.hadoop.fs.Path(f"{path}.partial")
    stream = fs.create(partial, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
    fs.delete(hadoop_path, False)
    if not fs.rename(partial, hadoop_path):
        raise OSError(f"could not move {path}.partial to {path}")


# ---------------------------------------------------------------- tables


def table_exists(spark: SparkSession, lakehouse: Lakehouse, name: str) -> bool:
    return DeltaTable.isDeltaTable(spark, lakehouse.table_path(name))


def read(spark: SparkSession, lakehouse: Lakehouse, name: str) -> DataFrame:
    """A catalog table; before its first write, an empty frame of its declared schema."""
    if table_exists(spark, lakehouse, name):
        return spark.read.format("delta").load(lakehouse.table_path(name))
    return spark.createDataFrame([], TABLES[name].schema)


def ensure_table(spark: SparkSession, lakehouse: Lakehouse, name: str) -> DeltaTable | None:
    """The table, created from its catalog entry (schema, partitioning, properties) if missing
    (in a read-only lakehouse: None, and nothing created)."""
    path = lakehouse.table_path(name)
    if DeltaTable.isDeltaTable(spark, path):
        table = DeltaTable.forPath(spark, path)
        if not lakehouse.read_only:
            _add_declared_columns(spark, path, TABLES[name].schema, table.toDF().schema)
        return table
    if lakehouse.read_only:
        log.info("write=False: not creating Tables/%s", name)
        return None
    spec = TABLES[name]
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(spec.schema).comment(spec.description)
    if spec.partition_by:
        builder = builder.partitionedBy(*spec.partition_by)
    for key, value in table_properties(spec).items():
        builder = builder.property(key, value)
    log.info("created Tables/%s", name)
    return builder.execute()


def _add_declared_columns(spark: SparkSession, path: str, declared: StructType, actual: StructType) -> None:
    """A table created before a nullable column was declared (e.g. ``_unparsed_values``) gains it,
    null in its existing rows, so writers that carry it can append."""
    missing = [f for f in declared.fields if f.name not in actual.fieldNames() and f.nullable]
    if missing:
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
        spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
        log.info("added %s to %s", [f.name for f in missing], path)


def table_properties(spec: TableSpec) -> dict[str, str]:
    properties = {"delta.setTransactionRetentionDuration": TXN_RETENTION}
    if spec.change_feed:
        properties["delta.enableChangeDataFeed"] = "true"
    if spec.stats_columns:
        properties["delta.dataSkippingStatsColumns"] = ",".join(spec.stats_columns)
    return properties


def conform(df: DataFrame, name: str, keep: tuple[str, ...] = ()) -> DataFrame:
    """The frame in its table's column order, after checking it has exactly the declared columns
    and types (nullability is enforced by Delta itself on write). ``keep``: working columns that
    ride along (e.g. a merge's delete flag) and are not written."""
    declared: StructType = TABLES[name].schema
    have = {f.name: f.dataType for f in df.schema.fields if f.name not in keep}
    want = {f.name: f.dataType for f in declared.fields}
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    retyped = sorted(
        f"{c} ({have[c].simpleString()}, declared {want[c].simpleString()})"
        for c in set(want) & set(have)
        if have[c] != want[c]
    )
    if missing or extra or retyped:
        problems = [
            f"missing {missing}" if missing else "",
            f"undeclared {extra}" if extra else "",
            f"retyped {retyped}" if retyped else "",
        ]
        raise SchemaMismatchError(
            f"frame for Tables/{name} does not match its declared schema: "
            + "; ".join(p for p in problems if p)
            + f". Declared columns: {list(want)}"
        )
    return df.select(*declared.fieldNames(), *keep)


def _log_version(spark: SparkSession, path: str) -> int | None:
    """The table's latest version as this session's Delta log knows it (cheap: no Spark job)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)  # type: ignore[attr-defined]
    return int(delta_log.unsafeVolatileSnapshot().version())


def _commit_metrics(spark: SparkSession, path: str, version: int) -> dict[str, str]:
    """operationMetrics of one commit, read from its log entry (the Delta protocol's commitInfo)."""
    text = read_text(spark, f"{path}/_delta_log/{version:020d}.json") or ""
    for line in text.splitlines():
        action = json.loads(line)
        if "commitInfo" in action:
            return dict(action["commitInfo"].get("operationMetrics") or {})
    return {}


def _write(df: DataFrame, lakehouse: Lakehouse, name: str, mode: str, txn: tuple[str, int] | None) -> int:
    """Writes through the batch writer (creating the table from its catalog entry on first write);
    returns the rows written (0 when an idempotent transaction had already been committed)."""
    spark, path, spec = df.sparkSession, lakehouse.table_path(name), TABLES[name]
    if lakehouse.read_only:
        rows = conform(df, name).count()  # the schema check and the transforms run; nothing is written
        log.info("write=False: would %s %d rows to Tables/%s", mode, rows, name)
        return rows
    before = _log_version(spark, path)
    writer = conform(df, name).write.format("delta").mode(mode)
    if before is None:
        writer = writer.partitionBy(*spec.partition_by).options(**table_properties(spec))
    if txn:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", txn[1])
    writer.save(path)
    after = _log_version(spark, path)
    if after is None or after == before:
        return 0
    return int(_commit_metrics(spark, path, after).get("numOutputRows", 0))


def append(df: DataFrame, lakehouse: Lakehouse, name: str, txn: tuple[str, int] | None = None) -> int:
    """Appends rows; returns how many were written.

    ``txn`` = (application id, version) makes the append idempotent: Delta skips a write whose
    version it has already committed for that application, so a retried step cannot add its rows twice.
    """
    rows = _write(df, lakehouse, name, "append", txn)
    log.info("appended to Tables/%s: %d rows%s", name, rows, " (already written)" if txn and not rows else "")
    return rows


def overwrite(df: DataFrame, lakehouse: Lakehouse, name: str) -> int:
    """Replaces a small state table whole; returns its new row count."""
    rows = _write(df, lakehouse, name, "overwrite", None)
    log.info("overwrote Tables/%s: %d rows", name, rows)
    return rows


@dataclass(frozen=True)
class MergeResult:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


def merge(
    df: DataFrame,
    lakehouse: Lakehouse,
    name: str,
    *,
    within: Column | None = None,
    delete_flag: str | None = None,
) -> MergeResult:
    """Upserts on the table's key: new keys are inserted, rows whose values differ are updated,
    identical rows are left alone (no rewrite, no change-feed entry). Into a table that does not
    exist yet, it is a plain first write.

    ``within`` is a condition on the target (``t.``) that bounds the rows the source can match,
    e.g. the date partitions a day's run touches, so MERGE reads those files and not the table.
    ``delete_flag`` names a boolean source column: matched rows with it set are deleted instead.
    """
    spark = df.sparkSession
    spec = TABLES[name]
    if lakehouse.read_only:
        rows = conform(df, name, keep=(delete_flag,) if delete_flag else ()).count()
        log.info("write=False: would merge %d rows into Tables/%s", rows, name)
        return MergeResult(inserted=rows)
    if not table_exists(spark, lakehouse, name):
        first = df.filter(~F.col(delete_flag)).drop(delete_flag) if delete_flag else df
        result = MergeResult(inserted=_write(first, lakehouse, name, "append", None))
        log.info("created Tables/%s with %d rows", name, result.inserted)
        return result
    source = conform(df, name, keep=(delete_flag,) if delete_flag else ())
    condition: Column = _key_condition(spec.key)
    if within is not None:
        condition = condition & within
    values = [c for c in spec.schema.fieldNames() if c not in spec.key]
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in values) or "false"
    columns = {c: F.col(f"s.`{c}`") for c in spec.schema.fieldNames()}
    builder = DeltaTable.forPath(spark, lakehouse.table_path(name)).alias("t").merge(source.alias("s"), condition)
    if delete_flag:
        builder = builder.whenMatchedDelete(condition=F.col(f"s.`{delete_flag}`"))
        keep = f"NOT s.`{delete_flag}`"
        builder = builder.whenMatchedUpdate(condition=f"{keep} AND ({differs})", set=columns)
        builder = builder.whenNotMatchedInsert(condition=keep, values=columns)
    else:
        builder = builder.whenMatchedUpdate(condition=differs, set=columns).whenNotMatchedInsert(values=columns)
    metrics = builder.execute().first()
    result = MergeResult(
        inserted=int(metrics["num_inserted_rows"]),
        updated=int(metrics["num_updated_rows"]),
        deleted=int(metrics["num_deleted_rows"]),
    )
    log.info(
        "merged into Tables/%s: %d inserted, %d updated, %d deleted",
        name,
        result.inserted,
        result.updated,
        result.deleted,
    )
    return result


def delete_keys(keys: DataFrame, lakehouse: Lakehouse, name: str, key: tuple[str, ...]) -> int:
    """Deletes the rows whose ``key`` is in ``keys``; returns how many."""
    spark = keys.sparkSession
    before = _log_version(spark, lakehouse.table_path(name))
    (
        DeltaTable.forPath(spark, lakehouse.table_path(name))
        .alias("t")
        .merge(keys.alias("s"), _key_condition(key))
        .whenMatchedDelete()
        .execute()
    )
    after = _log_version(spark, lakehouse.table_path(name))
    if after == before:
        return 0
    return int(_commit_metrics(spark, lakehouse.table_path(name), after).get("numTargetRowsDeleted", 0))


def _key_condition(key: tuple[str, ...]) -> Column:
    condition: Column | None = None
    for k in key:
        term = F.col(f"t.`{k}`") == F.col(f"s.`{k}`")
        condition = term if condition is None else condition & term
    assert condition is not None
    return condition


def identity(spark: SparkSession, lakehouse: Lakehouse, name: str) -> tuple[str, int] | None:
    """(table id, current version): the id changes when a table is dropped and created again, so a
    reader that remembers a version can tell it is about another table. None before its first write."""
    path = lakehouse.table_path(name)
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    DeltaTable.forPath(spark, path)  # brings this session's view of the log up to date
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    snapshot = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).unsafeVolatileSnapshot()  # type: ignore[attr-defined]
    return str(snapshot.metadata().id()), int(snapshot.version())


def read_changes(spark: SparkSession, lakehouse: Lakehouse, name: str, after_version: int, upto: int) -> DataFrame:
    """Rows inserted, updated or deleted in versions (after_version, upto] — the change data feed
    with ``_change_type`` and ``_commit_version`` — without update pre-images."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after_version + 1)
        .option("endingVersion", upto)
        .load(lakehouse.table_path(name))
        .filter(F.col("_change_type") != "update_preimage")
    )


def read_version(spark: SparkSession, lakehouse: Lakehouse, name: str, at_version: int) -> DataFrame:
    return spark.read.format("delta").option("versionAsOf", at_version).load(lakehouse.table_path(name))


# ---------------------------------------------------------------- streams


def ingest(stream: DataFrame, lakehouse: Lakehouse, name: str, checkpoint: str, every_seconds: int = 0) -> Any:
    """Starts appending a stream to a table through Delta's streaming sink (exactly once: the
    checkpoint and the table's transaction log agree on which micro-batches are in). Returns the
    running query: with ``every_seconds`` 0 it ends once everything available is in; otherwise it
    keeps going, a micro-batch every ``every_seconds``."""
    ensure_table(stream.sparkSession, lakehouse, name)
    writer = (
        conform(stream, name)
        .writeStream.format("delta")
        .queryName(f"ingest_{name}")
        .outputMode("append")
        .option("checkpointLocation", checkpoint)
    )
    writer = (
        writer.trigger(processingTime=f"{every_seconds} seconds")
        if every_seconds
        else writer.trigger(availableNow=True)
    )
    return writer.start(lakehouse.table_path(name))


def stream_checkpoint(spark: SparkSession, lakehouse: Lakehouse, stream: str) -> str:
    """Where a stream over ``stream``'s input keeps its progress: its checkpoint; in a read-only
    lakehouse a scratch copy of it on the driver's disk, so the run sees the same new input and the
    real checkpoint does not move."""
    real = lakehouse.checkpoint_path(stream)
    if not lakehouse.read_only:
        return real
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="altaviz-write-false-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # scratch: gone with the session
    scratch = f"file://{folder}/{stream}"
    source_fs, source = _filesystem(spark, real)
    if source_fs.exists(source):
        target_fs, target = _filesystem(spark, scratch)
        jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
        conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
        jvm.org.apache.hadoop.fs.FileUtil.copy(source_fs, source, target_fs, target, False, conf)
    log.info("write=False: stream progress kept in %s (a copy; %s does not move)", scratch, real)
    return scratch


def process_available(
    stream: DataFrame,
    checkpoint: str,
    batch: Callable[[DataFrame, int], None],
    query_name: str,
) -> int:
    """Runs ``batch`` on everything the stream has not processed yet, then stops (trigger
    ``availableNow``). The checkpoint records what was processed, so each input is handled exactly
    once across runs, and a run killed midway resumes where it stopped. Returns how many
    micro-batches ran (0: nothing new).

    An exception raised by ``batch`` is re-raised as itself, not wrapped in a streaming error.
    """
    failure: list[BaseException] = []
    batches: list[int] = []

    def guarded(frame: DataFrame, batch_id: int) -> None:
        try:
            batch(frame, batch_id)
            batches.append(batch_id)
        except BaseException as err:
            failure.append(err)
            raise

    query = (
        stream.writeStream.queryName(query_name)
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .foreachBatch(guarded)
        .start()
    )
    try:
        query.awaitTermination()
    except Exception:
        if failure:
            raise failure[0] from None
        raise
    return len(batches)


# ---------------------------------------------------------------- maintenance


def file_count(spark: SparkSession, lakehouse: Lakehouse, name: str) -> tuple[int, int]:
    """The table's current data files: how many, and their bytes."""
    detail = DeltaTable.forPath(spark, lakehouse.table_path(name)).detail().first()
    return int(detail["numFiles"]), int(detail["sizeInBytes"])


def optimize(spark: SparkSession, lakehouse: Lakehouse, name: str) -> dict[str, int]:
    """Compacts small files (one day's partition at a time is rewritten only if it has several)."""
    if lakehouse.read_only:
        log.info("write=False: Tables/%s not compacted", name)
        return {"files_added": 0, "files_removed": 0}
    metrics = DeltaTable.forPath(spark, lakehouse.table_path(name)).optimize().executeCompaction().first()
    m = metrics["metrics"]
    return {"files_added": int(m["numFilesAdded"]), "files_removed": int(m["numFilesRemoved"])}


def vacuum(spark: SparkSession, lakehouse: Lakehouse, name: str, retention_hours: int) -> None:
    """Deletes files no version newer than ``retention_hours`` still references."""
    if lakehouse.read_only:
        log.info("write=False: Tables/%s not vacuumed", name)
        return
    DeltaTable.forPath(spark, lakehouse.table_path(name)).vacuum(float(retention_hours))
