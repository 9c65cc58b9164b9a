"""Bronze: raw rows exactly as landed, plus where and when they came from."""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

INGEST_METADATA = ("_record_id", "_source_file", "_ingested_at", "_ingest_run_id")


def filter_new_files(landed: DataFrame, ingested_files: DataFrame) -> DataFrame:
    """Keeps rows of files that bronze has not ingested yet (``_source_file`` not in ``ingested_files``)."""
    return landed.join(ingested_files.select("_source_file").distinct(), "_source_file", "left_anti")


def with_record_id(df: DataFrame, data_columns: list[str]) -> DataFrame:
    """Adds ``_record_id``: a hash of the file, the row's values and its ordinal among identical rows.

    Identical rows in one file stay distinct records (so duplicates can be quarantined, not lost),
    and the id is the same on every re-read of the file.
    """
    values = F.to_json(F.struct(*[F.col(c) for c in data_columns]))
    ordinal = F.row_number().over(Window.partitionBy("_source_file", values).orderBy(F.lit(1)))
    return df.withColumn(
        "_record_id", F.sha2(F.concat_ws("\u0001", F.col("_source_file"), values, ordinal.cast("string")), 256)
    )


def with_ingest_metadata(df: DataFrame, data_columns: list[str], run_id: str, ingested_at: datetime) -> DataFrame:
    """Adds ``_record_id``, ``_ingested_at`` and ``_ingest_run_id`` to rows carrying ``_source_file``."""
    return (
        df.transform(with_record_id, data_columns)
        .withColumn("_ingested_at", F.lit(ingested_at).cast("timestamp"))
        .withColumn("_ingest_run_id", F.lit(run_id))
        .select(*data_columns, *INGEST_METADATA)
    )
