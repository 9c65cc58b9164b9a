from datetime import UTC, datetime

from altaviz import bronze
from altaviz.schemas import RAW_SENSOR_READINGS
from pyspark.sql.types import StringType, StructField, StructType

from .conftest import ts

DATA = RAW_SENSOR_READINGS.fieldNames()


def _landed(spark, rows):
    schema = StructType([*RAW_SENSOR_READINGS.fields, StructField("_source_file", StringType())])
    return spark.createDataFrame(rows, schema)


def _row(unit, when, source, vib=2.0):
    return (unit, ts(when), vib, 250.0, 60.0, 1000.0, 1200.0, 9000.0, source)


def test_record_ids_are_stable_and_keep_exact_duplicates_apart(spark):
    rows = [
        _row("COMP-001", "2026-01-01 00:00", "f1"),
        _row("COMP-001", "2026-01-01 00:00", "f1"),
        _row("COMP-001", "2026-01-01 00:10", "f1"),
        (None, None, None, None, None, None, None, None, "f1"),
    ]
    first = bronze.with_ingest_metadata(_landed(spark, rows), DATA, "run-1", datetime(2026, 1, 2, tzinfo=UTC))
    again = bronze.with_ingest_metadata(_landed(spark, rows), DATA, "run-2", datetime(2026, 1, 3, tzinfo=UTC))
    ids = [r["_record_id"] for r in first.collect()]
    assert len(ids) == 4 and len(set(ids)) == 4  # duplicates and the all-null row each get their own id
    assert set(ids) == {r["_record_id"] for r in again.collect()}
    assert first.columns == [*DATA, *bronze.INGEST_METADATA]
    assert {r["_ingest_run_id"] for r in first.collect()} == {"run-1"}


def test_same_values_in_another_file_are_another_record(spark):
    a = bronze.with_ingest_metadata(
        _landed(spark, [_row("COMP-001", "2026-01-01 00:00", "f1")]), DATA, "r", datetime(2026, 1, 2, tzinfo=UTC)
    )
    b = bronze.with_ingest_metadata(
        _landed(spark, [_row("COMP-001", "2026-01-01 00:00", "f2")]), DATA, "r", datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert a.first()["_record_id"] != b.first()["_record_id"]


def test_filter_new_files_drops_rows_of_ingested_files(spark):
    landed = _landed(spark, [_row("COMP-001", "2026-01-01 00:00", "old"), _row("COMP-001", "2026-01-01 00:10", "new")])
    ingested = spark.createDataFrame([("old",)], "_source_file string")
    assert [r["_source_file"] for r in bronze.filter_new_files(landed, ingested).collect()] == ["new"]
