from altaviz import bronze, lakehouse
from altaviz.lakehouse import Lakehouse
from altaviz.schemas import RAW_SENSOR_READINGS

DATA = RAW_SENSOR_READINGS.fieldNames()


def _land(spark, folder, rows):
    spark.createDataFrame(rows, RAW_SENSOR_READINGS).coalesce(1).write.mode("overwrite").parquet(str(folder))
    return spark.read.schema(RAW_SENSOR_READINGS).parquet(str(folder)).transform(bronze.with_file_origin)


def test_record_ids_come_from_file_and_position_and_keep_exact_duplicates_apart(spark, tmp_path):
    row = ("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0)
    rows = [row, row, (None,) * 8]
    first = bronze.with_ingest_metadata(_land(spark, tmp_path / "a", rows), DATA, "run-1").collect()
    again = bronze.with_ingest_metadata(
        spark.read.schema(RAW_SENSOR_READINGS).parquet(str(tmp_path / "a")).transform(bronze.with_file_origin),
        DATA,
        "run-2",
    ).collect()
    ids = [r["_record_id"] for r in first]
    assert len(set(ids)) == 3  # identical rows and the all-null row each get their own id
    assert {r["_record_id"] for r in again} == set(ids)  # a re-read of the file: the same ids
    assert list(first[0].asDict()) == [*DATA, *bronze.INGEST_METADATA]
    assert {r["_ingest_run_id"] for r in first} == {"run-1"}
    assert all(r["_source_file"].endswith(".parquet") and r["_ingested_at"] is not None for r in first)


def test_the_same_values_in_another_file_are_another_record(spark, tmp_path):
    row = [("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0)]
    a = bronze.with_ingest_metadata(_land(spark, tmp_path / "a", row), DATA, "r")
    b = bronze.with_ingest_metadata(_land(spark, tmp_path / "b", row), DATA, "r")
    assert a.select("_record_id").first()[0] != b.select("_record_id").first()[0]
    assert a.select("_record_id").first()[0].endswith("-0")  # file hash, then the row's position


def test_continuous_ingestion_lands_files_that_arrive_while_it_runs_each_once(spark, tmp_path):
    lh = Lakehouse(str(tmp_path / "lh"))
    landing = tmp_path / "raw"
    row = ("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0)
    spark.createDataFrame([row], RAW_SENSOR_READINGS).write.parquet(str(landing / "batch-1"))
    stream = bronze.read_landed_files(spark, str(landing), RAW_SENSOR_READINGS, "live")
    query = lakehouse.ingest(stream, lh, "bronze_sensor_readings", lh.checkpoint_path("b"), every_seconds=1)
    try:
        query.processAllAvailable()
        spark.createDataFrame([row, row], RAW_SENSOR_READINGS).write.parquet(str(landing / "batch-2"))
        query.processAllAvailable()
        assert query.isActive  # still waiting for the next file
    finally:
        query.stop()
    ingested = lakehouse.read(spark, lh, "bronze_sensor_readings")
    assert ingested.count() == 3 and ingested.select("_record_id").distinct().count() == 3


def test_an_unreadable_or_empty_file_is_rejected_with_its_reason_and_good_files_are_still_ingested(spark, tmp_path):
    from altaviz import jobs

    lh = Lakehouse(str(tmp_path / "lh"))
    raw = tmp_path / "lh/Files/raw/sensor_readings"
    row = ("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0)
    spark.createDataFrame([row, row], RAW_SENSOR_READINGS).coalesce(1).write.parquet(str(raw / "batch-good"))
    spark.createDataFrame([], RAW_SENSOR_READINGS).coalesce(1).write.parquet(str(raw / "batch-empty"))
    (raw / "batch-garbage").mkdir()
    (raw / "batch-garbage/part-00000.parquet").write_bytes(b"\x00garbage" * 512)  # a gateway's broken upload

    summary = jobs.run_bronze(spark, run_id="r1", lakehouse_root=lh.root)
    assert summary["bronze_sensor_readings"] == 2 and summary["rejected_files"] == 2
    rejected = {
        r["source_file"].split("/raw/")[1]: r["reason"]
        for r in lakehouse.read(spark, lh, "bronze_rejected_files").collect()
    }
    assert rejected["sensor_readings/batch-garbage/part-00000.parquet"].startswith("unreadable: ")
    assert "is not a Parquet file" in rejected["sensor_readings/batch-garbage/part-00000.parquet"]
    empty = next(reason for path, reason in rejected.items() if "batch-empty" in path)
    assert empty == "empty: the file holds no rows"

    again = jobs.run_bronze(spark, run_id="r2", lakehouse_root=lh.root)  # nothing new: nothing recounted
    assert again["bronze_sensor_readings"] == 0 and again["rejected_files"] == 0
    assert lakehouse.read(spark, lh, "bronze_rejected_files").count() == 2
