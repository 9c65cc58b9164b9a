"""Bronze: raw rows exactly as landed, plus where and when they came from."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

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

    ``_record_id`` hashes the file and the row's position in it: identical rows in one file stay
    distinct records (so duplicates can be quarantined, not lost), and a re-read of the same file
    yields the same ids. ``_ingested_at`` is the micro-batch's time (also in a continuous stream).
    """
    origin = F.concat_ws("#", F.col("_source_file"), F.col("_row_index").cast("string"))
    return (
        df.withColumn("_record_id", F.sha2(origin, 256))
        .withColumn("_ingested_at", F.current_timestamp())
        .withColumn("_ingest_run_id", F.lit(run_id))
        .select(*data_columns, *INGEST_METADATA)
    )
