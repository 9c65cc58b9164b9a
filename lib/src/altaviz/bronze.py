"""Bronze: raw rows exactly as landed, plus where and when they came from.

A field gateway delivers worse than well-formed Parquet. Landing is therefore one file at a time,
in small steps a notebook can call one by one:

1. ``list_landed_files``: the ``.parquet`` and ``.csv`` files under a landing folder (any depth);
   ``new_files``: those not in ``bronze_landed_files`` yet (a rerun never re-ingests a file).
2. ``with_content_hash``: SHA-256 of each new file's bytes; ``to_duplicate_reasons``: a file with
   the bytes of one ingested before (or of an earlier new file) is a duplicate delivery.
3. ``read_file_schema`` (cheap: a Parquet footer, a CSV header) and ``to_landing_plan``: how each of
   the file's columns becomes a bronze column, or why the file cannot be read at all.
4. ``read_files``: files with the same plan in one Spark read; ``to_typed_rows`` casts them
   (strings and epoch numbers to timestamps, text to numbers) and keeps every value that does not
   cast in ``_unparsed_values`` (silver quarantines such rows under ``unparseable_value``).
5. ``with_ingest_metadata``: ``_record_id`` = file + row position, so a re-read gives the same ids.

``land_new_files`` runs the steps for one source and writes bronze, ``bronze_rejected_files`` and
``bronze_landed_files`` (last: a file listed there is done). Paths go through Spark and Hadoop's
file systems, so the same code lands ``file:`` folders and OneLake ``abfss:`` folders.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NullType,
    NumericType,
    StringType,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from altaviz import lakehouse
from altaviz.lakehouse import Lakehouse
from altaviz.schemas import BRONZE_LANDED_FILES, BRONZE_REJECTED_FILES, TABLES

log = logging.getLogger("altaviz.bronze")

INGEST_METADATA = ("_record_id", "_source_file", "_ingested_at", "_ingest_run_id")
UNPARSED = "_unparsed_values"
# File name endings a landing folder accepts, and the reader for each. Anything else (a gateway's
# .tmp upload, a _SUCCESS marker) is not a delivery and is left alone.
FORMATS = {".parquet": "parquet", ".csv": "csv"}
# Columns without which a row is nobody's reading: a file missing one is rejected whole.
KEY_COLUMNS = ("compressor_id", "timestamp", "station_id", "work_order_id")


def with_file_origin(df: DataFrame) -> DataFrame:
    """Adds ``_source_file`` and ``_row_index`` (the row's position in its file) from the file
    source's hidden ``_metadata`` column. Call it on a Parquet frame read straight from files."""
    return df.select(
        "*", F.col("_metadata.file_path").alias("_source_file"), F.col("_metadata.row_index").alias("_row_index")
    )


def with_line_origin(df: DataFrame) -> DataFrame:
    """``with_file_origin`` for text formats (CSV), whose reader has no row index: the position of
    each row in its file, from the reader's monotonically increasing ids (splits of one file are
    read in order)."""
    in_file = Window.partitionBy("_source_file").orderBy("_read_order")
    return (
        df.select("*", F.col("_metadata.file_path").alias("_source_file"))
        .withColumn("_read_order", F.monotonically_increasing_id())
        .withColumn("_row_index", F.row_number().over(in_file) - 1)
        .drop("_read_order")
    )


def with_ingest_metadata(df: DataFrame, data_columns: list[str], run_id: str) -> DataFrame:
    """Adds ``_record_id``, ``_ingested_at`` and ``_ingest_run_id`` to rows carrying ``_source_file``
    and ``_row_index``; keeps ``data_columns`` and the metadata, in that order.

    ``_record_id`` is the file (a 64-bit hash of its path, 16 hex digits) and the row's position in
    it: identical rows in one file stay distinct records (so duplicates can be quarantined, not
    lost), and a re-read of the same file yields the same ids. Short, because every layer carries it.
    """
    file_id = F.lpad(F.hex(F.xxhash64("_source_file")), 16, "0")
    return (
        df.withColumn("_record_id", F.concat_ws("-", file_id, F.col("_row_index").cast("string")))
        .withColumn("_ingested_at", F.current_timestamp())
        .withColumn("_ingest_run_id", F.lit(run_id))
        .select(*data_columns, *INGEST_METADATA)
    )


# ---------------------------------------------------------------- 1, 2: which files are new


def list_landed_files(spark: SparkSession, folder: str) -> DataFrame:
    """The deliveries under ``folder`` (any depth): ``source_file``, ``file_format``, ``size_bytes``,
    ``modified_at``. A listing of the file system only: no file's content is read (and, unlike
    Spark's file readers, 0-byte files are listed, so an empty delivery is accounted for)."""
    rows = [
        (path, FORMATS[ending], size, datetime.fromtimestamp(millis / 1000, UTC))
        for path, size, millis in lakehouse.list_files(spark, folder)
        for ending in FORMATS
        if path.lower().endswith(ending)
    ]
    return spark.createDataFrame(rows, "source_file string, file_format string, size_bytes long, modified_at timestamp")


def new_files(listed: DataFrame, landed: DataFrame) -> DataFrame:
    """The listed files not recorded in ``bronze_landed_files`` yet."""
    return listed.join(landed.select("source_file"), "source_file", "left_anti")


def with_content_hash(spark: SparkSession, files: DataFrame) -> DataFrame:
    """Adds ``content_sha256``: the hex SHA-256 of each file's bytes (read by Spark, on executors)."""
    paths = [r[0] for r in files.select("source_file").collect()]
    if not paths:
        return files.withColumn("content_sha256", F.lit(None).cast("string"))
    hashes = (
        spark.read.format("binaryFile")
        .load(paths)
        .select(F.col("path").alias("source_file"), F.sha2("content", 256).alias("content_sha256"))
    )
    return files.join(hashes, "source_file", "left")


def to_duplicate_reasons(new: DataFrame, landed: DataFrame) -> DataFrame:
    """``source_file``, ``reason`` for each new file whose bytes equal those of a file ingested
    before or of an earlier new file (by modification time, then path): the same delivery sent
    again under another name. Empty files are left to the emptiness check."""
    before = landed.filter(F.col("outcome") == "ingested").select(
        "content_sha256", F.col("source_file").alias("_original")
    )
    earlier = Window.partitionBy("content_sha256").orderBy("modified_at", "source_file")
    candidates = new.filter(F.col("size_bytes") > 0)
    first_new = candidates.withColumn("_first", F.first("source_file").over(earlier))
    again_in_batch = first_new.filter(F.col("_first") != F.col("source_file")).select(
        "source_file", F.col("_first").alias("_original")
    )
    again_from_before = candidates.join(F.broadcast(before), "content_sha256").select("source_file", "_original")
    return (
        again_from_before.unionByName(again_in_batch)
        .groupBy("source_file")
        .agg(F.min("_original").alias("_original"))
        .select("source_file", F.concat(F.lit("duplicate delivery: same content as "), "_original").alias("reason"))
    )


# ---------------------------------------------------------------- 3: how a file's columns fit


def read_file_schema(spark: SparkSession, path: str, file_format: str) -> StructType:
    """A file's own columns and types: a Parquet footer, or a CSV header (every column a string).
    Raises what Spark raises for a file it cannot read."""
    if file_format == "csv":
        return spark.read.option("header", "true").option("enforceSchema", "false").csv(path).schema
    return spark.read.parquet(path).schema


@dataclass(frozen=True)
class LandingPlan:
    """How one file becomes bronze rows: for each bronze column, the file column it comes from
    (None: the file lacks it, the column is null); or ``reason``, why the file is rejected whole."""

    sources: dict[str, str | None] = field(default_factory=dict)
    file_schema: StructType | None = None
    note: str = ""
    reason: str = ""


def _castable(source: object, target: object) -> bool:
    """Whether a file column's type can become a bronze column's type (values that then fail to
    cast are kept in ``_unparsed_values``)."""
    if isinstance(source, (StringType, NullType)):
        # NullType: a column without a single value (pandas 2 writes an all-None or zero-row text
        # column so): nothing in it can fail to cast.
        return True
    if isinstance(target, StringType):
        return isinstance(source, (NumericType, BooleanType))
    if isinstance(target, (DoubleType, FloatType, IntegerType, LongType)):
        return isinstance(source, NumericType)
    if isinstance(target, TimestampType):
        return isinstance(source, (TimestampType, TimestampNTZType, DateType, NumericType))
    if isinstance(target, DateType):
        return isinstance(source, (DateType, TimestampType, TimestampNTZType))
    return source == target


def to_landing_plan(file_schema: StructType, target: StructType) -> LandingPlan:
    """Matches a file's columns to the bronze columns by name (case and surrounding spaces
    ignored). Rejects the file when a key column is missing, when columns are missing *and* others
    are unexpected (a renamed column: guessing which is which could put a value under the wrong
    sensor), or when a column's type cannot hold its values. A missing non-key column is null (silver
    quarantines the rows as ``missing_value``); unexpected columns alone are ignored (noted)."""
    by_name: dict[str, str] = {}
    for name in file_schema.fieldNames():
        by_name.setdefault(name.strip().lower(), name)
    wanted = [f.name for f in target.fields]
    missing = [c for c in wanted if c.lower() not in by_name]
    unexpected = sorted(name for key, name in by_name.items() if key not in {c.lower() for c in wanted})
    if any(c in KEY_COLUMNS for c in missing):
        keys = [c for c in missing if c in KEY_COLUMNS]
        return LandingPlan(reason=f"missing key column(s) {keys}; the file has {file_schema.fieldNames()}")
    if missing and unexpected:
        return LandingPlan(reason=f"columns renamed? missing {missing}, unexpected {unexpected}: no column is guessed")
    types = {f.name: f.dataType for f in file_schema.fields}
    found = {f.name: by_name[f.name.lower()] for f in target.fields if f.name not in missing}
    wrong = [
        f"{found[f.name]} is {types[found[f.name]].simpleString()}, expected {f.dataType.simpleString()}"
        for f in target.fields
        if f.name in found and not _castable(types[found[f.name]], f.dataType)
    ]
    if wrong:
        return LandingPlan(reason="column types cannot be read: " + "; ".join(wrong))
    notes = [f"missing {missing} (null)" if missing else "", f"ignored unexpected {unexpected}" if unexpected else ""]
    return LandingPlan(
        sources={c: None if c in missing else by_name[c.lower()] for c in wanted},
        file_schema=file_schema,
        note="; ".join(n for n in notes if n),
    )


# ---------------------------------------------------------------- 4: read and type the rows


def read_files(spark: SparkSession, paths: list[str], file_format: str, file_schema: StructType) -> DataFrame:
    """Files sharing one plan in one read, with ``_source_file`` and ``_row_index``."""
    reader = spark.read.schema(file_schema)
    if file_format == "csv":
        return reader.option("header", "true").option("mode", "PERMISSIVE").csv(paths).transform(with_line_origin)
    return reader.parquet(*paths).transform(with_file_origin)


def _epoch_to_timestamp(number: Column) -> Column:
    """Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size: 1e11 seconds
    is the year 5138) → timestamp."""
    magnitude = F.abs(number)
    micros = (
        F.when(magnitude < 1e11, number * 1_000_000)
        .when(magnitude < 1e14, number * 1_000)
        .when(magnitude < 1e17, number)
        .otherwise(number / 1_000)
    )
    return F.timestamp_micros(F.round(micros).cast("long"))


def to_typed_column(value: Column, source: object, target: object) -> Column:
    """One file column cast to its bronze type; null where a value does not cast. Timestamps:
    with a zone or offset → that instant; without (a naive string, Parquet's timestamp_ntz) → UTC;
    numbers → epoch time. Text numbers accept NaN and Infinity."""
    if isinstance(target, TimestampType):
        if isinstance(source, StringType):
            text = F.trim(value)
            return F.when(text.rlike(r"^-?\d+(\.\d+)?$"), _epoch_to_timestamp(text.try_cast("double"))).otherwise(
                F.try_to_timestamp(text)
            )
        if isinstance(source, NumericType):
            return _epoch_to_timestamp(value.cast("double"))
        return value.cast("timestamp")
    if isinstance(source, StringType):
        return F.trim(value).try_cast(target)
    return value.cast(target)


def to_typed_rows(raw: DataFrame, plan: LandingPlan, target: StructType, keep_unparsed: bool) -> DataFrame:
    """Rows of files read by ``read_files`` → the bronze data columns (``target``), plus
    ``_unparsed_values`` (JSON {column: text} of the values that did not cast; null when all did)
    when ``keep_unparsed``, and ``_source_file``, ``_row_index``."""
    assert plan.file_schema is not None
    types = {f.name: f.dataType for f in plan.file_schema.fields}
    typed, failed = [], []
    for f in target.fields:
        source = plan.sources.get(f.name)
        if source is None:
            typed.append(F.lit(None).cast(f.dataType).alias(f.name))
            continue
        value = F.col(f"`{source}`")
        cast = to_typed_column(value, types[source], f.dataType)
        typed.append(cast.alias(f.name))
        failed.append(
            F.when(
                value.isNotNull() & cast.isNull(), F.struct(F.lit(f.name).alias("k"), value.cast("string").alias("v"))
            )
        )
    unparsed = F.array_compact(F.array(*failed)) if failed else F.array()
    text = F.when(F.size(unparsed) > 0, F.to_json(F.map_from_entries(unparsed)))
    columns = [*typed, text.alias(UNPARSED)] if keep_unparsed else [*typed, text.alias("_unparsed_check")]
    return raw.select(*columns, "_source_file", "_row_index")


# ---------------------------------------------------------------- the whole landing, one source


@dataclass
class LandingResult:
    rows: int = 0
    files: int = 0
    empty: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # path → reason


def _outcome(path: str, rejected: dict[str, str], empty: set[str]) -> str:
    return "rejected" if path in rejected else "empty" if path in empty else "ingested"


def root_cause(err: Exception) -> str:
    """The innermost Java cause of a Spark error (e.g. "… is not a Parquet file"), without its
    exception class; Py4J's own first line says only which call failed."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    detail = [line.lstrip(": ") for line in lines if not line.startswith(("An error occurred", "at "))]
    cause = causes[-1] if causes else (detail[0] if detail else type(err).__name__)
    cause = re.sub(r"^\[[A-Z_.]+\] ", "", re.sub(r"^[\w.$]+(?:Exception|Error): ", "", cause))
    return cause[:500]


def plan_files(
    spark: SparkSession, files: list[dict], target: StructType
) -> tuple[dict[str, LandingPlan], dict[str, str]]:
    """Per new file (rows of ``list_landed_files``): its plan, or its rejection reason."""
    plans, rejected = {}, {}
    for f in files:
        path = f["source_file"]
        if f["size_bytes"] == 0:
            rejected[path] = "empty: the file is 0 bytes"
            continue
        try:
            schema = read_file_schema(spark, path, f["file_format"])
        except Exception as err:  # noqa: BLE001  (Spark's read errors come as several exception classes)
            rejected[path] = f"unreadable: {root_cause(err)}"
            continue
        plan = to_landing_plan(schema, target)
        if plan.reason:
            rejected[path] = f"columns: {plan.reason}"
        else:
            plans[path] = plan
    return plans, rejected


def _typed_group(
    spark: SparkSession, paths: list[str], file_format: str, plan: LandingPlan, target: StructType, keep: bool
) -> DataFrame:
    assert plan.file_schema is not None
    return read_files(spark, paths, file_format, plan.file_schema).transform(to_typed_rows, plan, target, keep)


def read_planned(
    spark: SparkSession, plans: dict[str, LandingPlan], formats: dict[str, str], target: StructType, keep: bool
) -> tuple[DataFrame | None, dict[str, str]]:
    """The typed rows of every planned file, materialised (one read per group of files with the
    same format and plan); a file whose data cannot be read (a corrupt page behind a good footer)
    is rejected with the reason instead of failing its group."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for path, plan in plans.items():
        assert plan.file_schema is not None
        groups.setdefault((formats[path], plan.file_schema.json(), json.dumps(plan.sources)), []).append(path)
    batches = [(file_format, paths) for (file_format, _, _), paths in groups.items()]
    if not batches:
        return None, {}
    try:  # one materialisation for every group: the usual case, all files readable
        return _checkpoint(_union([_typed_group(spark, p, f, plans[p[0]], target, keep) for f, p in batches])), {}
    except Exception:  # noqa: BLE001  a corrupt page behind a good footer: find the file(s), one by one
        log.warning("a landed file could not be read whole; reading the files one by one")
    frames, rejected = [], {}
    for file_format, paths in batches:
        for path in paths:
            try:
                frames.append(_checkpoint(_typed_group(spark, [path], file_format, plans[path], target, keep)))
            except Exception as err:  # noqa: BLE001  (Spark's read errors come as several exception classes)
                rejected[path] = f"unreadable: {root_cause(err)}"
    return (_union(frames) if frames else None), rejected


def _union(frames: list[DataFrame]) -> DataFrame:
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def _checkpoint(df: DataFrame) -> DataFrame:
    return df.localCheckpoint(eager=True)


def land_new_files(
    spark: SparkSession,
    lh: Lakehouse,
    source: str,
    folder: str,
    table: str,
    run_id: str,
    reject_duplicates: bool = True,
) -> LandingResult:
    """Lands every new file under ``folder`` into ``table``; rejected files go to
    ``bronze_rejected_files`` with the reason; every file is then listed in ``bronze_landed_files``.
    ``reject_duplicates`` False: a registry snapshot delivered again unchanged is normal, not a
    duplicate delivery (silver takes the newest version of each entry).

    Safe to rerun after a crash at any point: a file already in ``table`` is not appended again,
    one already in ``bronze_rejected_files`` is not recorded again."""
    target_full: StructType = TABLES[table].schema
    keep = UNPARSED in target_full.fieldNames()
    target = StructType([f for f in target_full.fields if f.name not in (*INGEST_METADATA, UNPARSED)])
    result = LandingResult()
    listed = list_landed_files(spark, folder)
    if listed.isEmpty():  # a local frame: no Spark job
        return result
    landed = lakehouse.read(spark, lh, "bronze_landed_files")
    new = new_files(listed, landed.filter(F.col("source") == source)).localCheckpoint(eager=True)
    if new.isEmpty():  # the usual rerun: no file content is read
        return result
    new = with_content_hash(spark, new).localCheckpoint(eager=True)
    files = [r.asDict() for r in new.collect()]
    duplicates = to_duplicate_reasons(new, landed).collect() if reject_duplicates else []
    rejected = {r["source_file"]: r["reason"] for r in duplicates}
    plans, unplanned = plan_files(spark, [f for f in files if f["source_file"] not in rejected], target)
    rejected |= unplanned
    typed, unreadable = read_planned(spark, plans, {f["source_file"]: f["file_format"] for f in files}, target, keep)
    rejected |= unreadable
    rows_by_file: dict[str, int] = {}
    # Readable, with columns that fit, and no rows (e.g. a writer's empty part file): nothing is
    # lost, so it is listed as "empty", not rejected.
    empty: set[str] = set()
    if typed is not None:
        per_file = typed.groupBy("_source_file").agg(
            F.count(F.lit(1)).alias("n"), F.count(F.lit(None) if keep else "_unparsed_check").alias("bad")
        )
        for r in per_file.collect():
            rows_by_file[r["_source_file"]] = r["n"]
            if r["bad"]:
                rejected[r["_source_file"]] = (
                    f"unparseable values: {r['bad']} row(s) hold values that are not {table}'s types"
                )
        for path in plans:
            if path not in rejected and not rows_by_file.get(path):
                empty.add(path)
        already = lakehouse.read(spark, lh, table).select("_source_file").distinct()
        rows = (
            typed.filter(~F.col("_source_file").isin(list(rejected)))
            .join(already, "_source_file", "left_anti")
            .transform(with_ingest_metadata, [*target.fieldNames(), *([UNPARSED] if keep else [])], run_id)
        )
        lakehouse.ensure_table(spark, lh, table)
        result.rows = lakehouse.append(rows, lh, table)
    now = datetime.now(UTC)
    if rejected:
        for path, reason in sorted(rejected.items()):
            log.warning("%s: rejected %s: %s", source, path, reason)
        recorded = lakehouse.read(spark, lh, "bronze_rejected_files").select("source_file")
        frame = spark.createDataFrame(
            [(p, source, r, run_id, now) for p, r in sorted(rejected.items())], BRONZE_REJECTED_FILES
        ).join(recorded, "source_file", "left_anti")
        lakehouse.append(frame, lh, "bronze_rejected_files")
    ledger = [
        (
            f["source_file"],
            source,
            f["file_format"],
            f["size_bytes"],
            f["modified_at"],
            f["content_sha256"] or "",
            _outcome(f["source_file"], rejected, empty),
            0 if f["source_file"] in rejected else rows_by_file.get(f["source_file"], 0),
            rejected.get(f["source_file"])
            or ("the file holds no rows" if f["source_file"] in empty else plans[f["source_file"]].note or None),
            run_id,
            now,
        )
        for f in files
    ]
    lakehouse.append(spark.createDataFrame(ledger, BRONZE_LANDED_FILES), lh, "bronze_landed_files")
    result.files, result.empty = len(files), len(empty)
    result.rejected = rejected
    return result
