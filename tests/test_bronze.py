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


def test_landing_takes_each_file_once_and_files_that_arrive_later_on_the_next_call(spark, tmp_path):
    lh = Lakehouse(str(tmp_path / "lh"))
    landing = tmp_path / "lh/Files/raw/sensor_readings"
    row = ("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0)
    spark.createDataFrame([row], RAW_SENSOR_READINGS).coalesce(1).write.parquet(str(landing / "batch-1"))
    first = bronze.land_new_files(spark, lh, "sensor_readings", str(landing), "bronze_sensor_readings", "a")
    spark.createDataFrame([row, row], RAW_SENSOR_READINGS).coalesce(1).write.parquet(str(landing / "batch-2"))
    second = bronze.land_new_files(spark, lh, "sensor_readings", str(landing), "bronze_sensor_readings", "b")
    again = bronze.land_new_files(spark, lh, "sensor_readings", str(landing), "bronze_sensor_readings", "c")
    assert (first.rows, second.rows, again.rows) == (1, 2, 0) and again.files == 0
    ingested = lakehouse.read(spark, lh, "bronze_sensor_readings")
    assert ingested.count() == 3 and ingested.select("_record_id").distinct().count() == 3
    assert lakehouse.read(spark, lh, "bronze_landed_files").count() == 2


def test_a_landing_plan_reads_conforming_variants_and_rejects_what_it_cannot_place():
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    def schema(**types):
        return StructType([StructField(name, t) for name, t in types.items()])

    sensors = {c: StringType() for c in DATA[2:]}
    as_text = bronze.to_landing_plan(
        schema(Compressor_ID=StringType(), timestamp=LongType(), **sensors), RAW_SENSOR_READINGS
    )
    assert not as_text.reason and as_text.sources["compressor_id"] == "Compressor_ID"
    no_flow = {c: t for c, t in sensors.items() if c != "gas_flow_mcf"}
    missing = bronze.to_landing_plan(
        schema(compressor_id=StringType(), timestamp=LongType(), **no_flow), RAW_SENSOR_READINGS
    )
    assert not missing.reason and missing.sources["gas_flow_mcf"] is None
    renamed = bronze.to_landing_plan(
        schema(compressor_id=StringType(), timestamp=LongType(), flow=StringType(), **no_flow), RAW_SENSOR_READINGS
    )
    assert renamed.reason.startswith("columns renamed?")
    no_key = bronze.to_landing_plan(schema(compressor_id=StringType(), **sensors), RAW_SENSOR_READINGS)
    assert no_key.reason.startswith("missing key column")
    boolean = bronze.to_landing_plan(
        schema(compressor_id=StringType(), timestamp=LongType(), **{**sensors, "horsepower": BooleanType()}),
        RAW_SENSOR_READINGS,
    )
    assert boolean.reason.startswith("column types cannot be read: horsepower is boolean")


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
    assert summary["bronze_sensor_readings"] == 2 and summary["rejected_files"] == 1
    rejected = {
        r["source_file"].split("/raw/")[1]: r["reason"]
        for r in lakehouse.read(spark, lh, "bronze_rejected_files").collect()
    }
    assert rejected["sensor_readings/batch-garbage/part-00000.parquet"].startswith("unreadable: ")
    assert "is not a Parquet file" in rejected["sensor_readings/batch-garbage/part-00000.parquet"]
    assert not any("batch-empty" in path for path in rejected)  # readable, no rows: nothing lost
    ledger = lakehouse.read(spark, lh, "bronze_landed_files").toPandas()
    assert list(ledger[ledger.source_file.str.contains("batch-empty")].outcome) == ["empty"]

    again = jobs.run_bronze(spark, run_id="r2", lakehouse_root=lh.root)  # nothing new: nothing recounted
    assert again["bronze_sensor_readings"] == 0 and again["rejected_files"] == 0
    assert lakehouse.read(spark, lh, "bronze_rejected_files").count() == 1


def test_a_bronze_table_from_before_unparsed_values_gains_the_column(spark, tmp_path):
    lh = Lakehouse(str(tmp_path / "lh"))
    row = ("COMP-001", None, 2.0, 250.0, 60.0, 1000.0, 1200.0, 9000.0, "r-0", "f", None, "old")
    old = "compressor_id string, timestamp timestamp, vibration_mms double, discharge_temp_f double, "
    old += "suction_pressure_psi double, discharge_pressure_psi double, horsepower double, gas_flow_mcf double, "
    old += "_record_id string, _source_file string, _ingested_at timestamp, _ingest_run_id string"
    spark.createDataFrame([row], old).write.format("delta").save(lh.table_path("bronze_sensor_readings"))
    lakehouse.ensure_table(spark, lh, "bronze_sensor_readings")
    table = lakehouse.read(spark, lh, "bronze_sensor_readings")
    assert "_unparsed_values" in table.columns and table.first()["_unparsed_values"] is None
