"""Bronze: raw rows exactly as landed, plus where and when they came from."""

from __future__ import annotations

import json
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

INGEST_METADATA = ("_record_id", "_source_file", "_ingested_at", "_ingest_run_id")


def with_file_origin(df: DataFrame) -> DataFrame:
    """Adds ``_source_file`` and ``_row_index`` (the row's position in its file) from the file
    source's hidden ``_metadata`` column. Call it on a frame read straight from files."""
    return df.select(
        "*", F.col("_metadata.file_path").alias("_source_file"), F.col("_metadata.row_index").alias("_row_index")
    )


def with_ingest_metadata(df: DataFrame, data_columns: list[str], run_id: str) -> DataFrame:
    """Adds ``_record_id``, ``_ingested_at`` and ``_ingest_run_id`` to rows carrying ``_source_file``
    and ``_row_index``; keeps ``data_columns`` and the metadata, in that order.

    ``_record_id`` is the file (a 64-bit hash of its path, 16 hex digits) and the row's position in
    it: identical rows in one file stay distinct records (so duplicates can be quarantined, not
    lost), and a re-read of the same file yields the same ids. Short, because every layer carries it.
    ``_ingested_at`` is the micro-batch's time (also in a continuous stream).
    """
    file_id = F.lpad(F.hex(F.xxhash64("_source_file")), 16, "0")
    return (
        df.withColumn("_record_id", F.concat_ws("-", file_id, F.col("_row_index").cast("string")))
        .withColumn("_ingested_at", F.current_timestamp())
        .withColumn("_ingest_run_id", F.lit(run_id))
        .select(*data_columns, *INGEST_METADATA)
    )


def read_landed_files(spark: SparkSession, folder: str, schema: StructType, run_id: str) -> DataFrame:
    """A stream of the Parquet files landed under ``folder`` (any depth) as bronze rows: each file
    once, whatever its age, as long as the consuming query keeps its checkpoint."""
    landed = (
        spark.readStream.schema(schema)
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.parquet")
        .option("maxFileAge", "3650d")
        # A file that is not readable Parquet gives no rows instead of stopping every good file's
        # ingestion; 02_bronze then finds it in the stream's source log and records it as rejected.
        .option("ignoreCorruptFiles", "true")
        .parquet(folder)
    )
    return landed.transform(with_file_origin).transform(with_ingest_metadata, schema.fieldNames(), run_id)


def file_key(uri: str) -> str:
    """One spelling of a file URI: the stream's log writes ``file:///x``, ``_metadata`` ``file:/x``."""
    parsed = urlparse(uri)
    return f"{parsed.scheme}://{parsed.netloc}{unquote(parsed.path)}"


def files_in_source_log(log_text: str, batch_ids: set[int]) -> set[str]:
    """The files a file stream's source log (``<checkpoint>/sources/0/<batch>[.compact]``: a version
    line, then one JSON entry per file) records for ``batch_ids``."""
    files = set()
    for line in log_text.splitlines()[1:]:
        if line.strip():
            entry = json.loads(line)
            if entry.get("batchId") in batch_ids:
                files.add(file_key(entry["path"]))
    return files
