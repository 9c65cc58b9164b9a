"""The lakehouse I/O layer on real Delta tables: the catalog's schemas, partitions and properties,
idempotent appends, MERGE that rewrites only what changed, change feed, streams."""

from datetime import UTC, datetime

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from altaviz import lakehouse
from altaviz.lakehouse import Lakehouse, SchemaMismatchError
from altaviz.schemas import TABLES

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _quality(spark, rows):
    return spark.createDataFrame([(r, "t", m, v, AT) for r, m, v in rows], TABLES["gold_data_quality"].schema)


def _episodes(spark, rows):
    schema = TABLES["gold_alert_episodes"].schema
    base = ("COMP-001", "vibration_mms", "threshold", "warning", "warning", True, AT, None, None, AT, 4.5, 5.0, 5.0, 3)
    return spark.createDataFrame([(alert_id, *base[:-3], peak, peak, 3) for alert_id, peak in rows], schema)


def test_a_frame_that_does_not_match_its_declared_schema_is_refused_with_the_difference(spark, tmp_path):
    frame = _quality(spark, [("r", "freshness_minutes", 1.0)]).drop("measured_at").withColumn("extra", F.lit(1))
    with pytest.raises(SchemaMismatchError, match=r"missing \['measured_at'\]; undeclared \['extra'\]"):
        lakehouse.append(frame, Lakehouse(str(tmp_path)), "gold_data_quality")
    retyped = _quality(spark, [("r", "m", 1.0)]).withColumn("metric_value", F.col("metric_value").cast("float"))
    with pytest.raises(SchemaMismatchError, match=r"retyped \['metric_value \(float, declared double\)'\]"):
        lakehouse.conform(retyped, "gold_data_quality")


def test_the_first_write_creates_the_table_from_its_catalog_entry(spark, tmp_path):
    lh = Lakehouse(str(tmp_path))
    assert lakehouse.read(spark, lh, "gold_hourly_readings").schema == TABLES["gold_hourly_readings"].schema
    assert lakehouse.append(_quality(spark, [("r1", "freshness_minutes", 1.0)]), lh, "gold_data_quality") == 1
    detail = DeltaTable.forPath(spark, lh.table_path("gold_data_quality")).detail().first()
    assert detail["properties"]["delta.enableChangeDataFeed"] == "true"
    features = spark.createDataFrame([], TABLES["gold_sensor_features"].schema)
    lakehouse.merge(features, lh, "gold_sensor_features")
    detail = DeltaTable.forPath(spark, lh.table_path("gold_sensor_features")).detail().first()
    assert detail["partitionColumns"] == ["reading_date"]
    assert detail["properties"]["delta.dataSkippingStatsColumns"] == "compressor_id,timestamp"


def test_an_append_with_the_same_transaction_id_is_written_once(spark, tmp_path):
    lh = Lakehouse(str(tmp_path))
    rows = _quality(spark, [("r1", "freshness_minutes", 1.0), ("r1", "accuracy_pct", 99.0)])
    assert lakehouse.append(rows, lh, "gold_data_quality", txn=("r1/quality", 0)) == 2
    assert lakehouse.append(rows, lh, "gold_data_quality", txn=("r1/quality", 0)) == 0
    assert lakehouse.read(spark, lh, "gold_data_quality").count() == 2


def test_merge_rewrites_only_changed_rows_and_deletes_flagged_ones(spark, tmp_path):
    lh = Lakehouse(str(tmp_path))
    first = lakehouse.merge(_episodes(spark, [("a", 5.0), ("b", 6.0), ("c", 7.0)]), lh, "gold_alert_episodes")
    assert (first.inserted, first.updated, first.deleted) == (3, 0, 0)
    _, version = lakehouse.identity(spark, lh, "gold_alert_episodes")
    changes = _episodes(spark, [("a", 5.0), ("b", 6.5), ("c", 7.0), ("d", 8.0)]).withColumn(
        "_delete", F.col("alert_id") == "c"
    )
    second = lakehouse.merge(changes, lh, "gold_alert_episodes", delete_flag="_delete")
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    feed = lakehouse.read_changes(spark, lh, "gold_alert_episodes", version, version + 1).collect()
    assert sorted((r["alert_id"], r["_change_type"]) for r in feed) == [
        ("b", "update_postimage"),
        ("c", "delete"),
        ("d", "insert"),
    ]
    assert sorted(r["alert_id"] for r in lakehouse.read(spark, lh, "gold_alert_episodes").collect()) == ["a", "b", "d"]


def test_a_recreated_table_has_another_identity(spark, tmp_path):
    import shutil

    lh = Lakehouse(str(tmp_path))
    lakehouse.append(_quality(spark, [("r1", "m", 1.0)]), lh, "gold_data_quality")
    before = lakehouse.identity(spark, lh, "gold_data_quality")
    shutil.rmtree(lh.table_path("gold_data_quality"))
    lakehouse.append(_quality(spark, [("r1", "m", 1.0)]), lh, "gold_data_quality")
    after = lakehouse.identity(spark, lh, "gold_data_quality")
    assert before[0] != after[0] and after[1] == 0


def test_a_failing_stream_batch_raises_its_own_error(spark, tmp_path):
    lh = Lakehouse(str(tmp_path))
    lakehouse.append(_quality(spark, [("r1", "m", 1.0)]), lh, "gold_data_quality")
    stream = spark.readStream.format("delta").load(lh.table_path("gold_data_quality"))

    def batch(frame, batch_id):
        raise LookupError(f"batch {batch_id} has {frame.count()} rows")

    with pytest.raises(LookupError, match="batch 0 has 1 rows"):
        lakehouse.process_available(stream, lh.checkpoint_path("t"), batch, "failing_batch")
    seen = []
    assert lakehouse.process_available(stream, lh.checkpoint_path("ok"), lambda f, i: seen.append(f.count()), "ok") == 1
    assert seen == [1]  # one micro-batch, with the one row
    assert lakehouse.process_available(stream, lh.checkpoint_path("ok"), lambda f, i: seen.append(f.count()), "ok") == 0


def test_maintenance_compacts_small_files_without_changing_data_or_feeding_streams(spark, tmp_path):
    from altaviz import jobs

    lh = Lakehouse(str(tmp_path))
    for i in range(4):  # four appends: four small files
        lakehouse.append(_quality(spark, [(f"r{i}", "freshness_minutes", float(i))]), lh, "gold_data_quality")
    stream = spark.readStream.format("delta").load(lh.table_path("gold_data_quality"))
    assert lakehouse.process_available(stream, lh.checkpoint_path("q"), lambda f, i: None, "before") == 1
    before = sorted(map(tuple, lakehouse.read(spark, lh, "gold_data_quality").collect()))

    dry = jobs.run_maintain(spark, run_id="m-0", lakehouse_root=str(tmp_path), write=False)
    assert dry["write"] is False and dry["gold_data_quality"] == {"files_added": 0, "files_removed": 0}
    assert lakehouse.file_count(spark, lh, "gold_data_quality")[0] == 4  # write=False compacted nothing

    summary = jobs.run_maintain(spark, run_id="m-1", lakehouse_root=str(tmp_path))

    assert summary["gold_data_quality"] == {"files_added": 1, "files_removed": 4}
    assert summary["retention_hours"] == 168
    assert sorted(map(tuple, lakehouse.read(spark, lh, "gold_data_quality").collect())) == before
    redelivered = []
    lakehouse.process_available(stream, lh.checkpoint_path("q"), lambda f, i: redelivered.append(f.count()), "after")
    assert sum(redelivered) == 0  # the compaction commit is no new data for the stream
    assert lakehouse.read(spark, lh, "ops_run_steps").filter("step = '08_maintain'").count() == 1
    with pytest.raises(ValueError, match="below 168 h"):
        jobs.run_maintain(spark, run_id="m-2", retention_hours=24, lakehouse_root=str(tmp_path))
