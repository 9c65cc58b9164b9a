from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from altaviz import gold
from altaviz.schemas import GOLD_HOURLY_READINGS, GOLD_SENSOR_FEATURES

from .conftest import silver_frame

T0 = datetime(2026, 1, 3)  # a Saturday


def _silver(spark, rows):
    """rows: (unit, minutes after T0, vib, temp, suction, discharge)."""
    return silver_frame(spark, [(u, T0 + timedelta(minutes=m), v, t, s, d) for u, m, v, t, s, d in rows])


def _compressors(spark):
    return spark.createDataFrame(
        [("COMP-001", "STN-001", 1480), ("COMP-002", "STN-002", 1340)],
        "compressor_id string, station_id string, rated_horsepower int",
    )


def test_rolling_windows_cover_only_the_trailing_time_range_of_the_same_unit(spark, config):
    rows = [
        ("COMP-001", 0, 2.0, 200.0, 60.0, 1000.0),
        ("COMP-001", 30, 4.0, 210.0, 60.0, 1100.0),
        ("COMP-001", 60, 6.0, 230.0, 50.0, 1200.0),
        ("COMP-001", 300, 8.0, 240.0, 60.0, 1000.0),
        ("COMP-002", 30, 100.0, 300.0, 60.0, 1000.0),
    ]
    out = {
        (r["compressor_id"], r["timestamp"]): r
        for r in gold.to_sensor_features(_silver(spark, rows), _compressors(spark), config).collect()
    }
    at = lambda m: out[("COMP-001", T0 + timedelta(minutes=m))]  # noqa: E731
    assert at(0)["vibration_1hr_mean"] == 2.0
    assert at(30)["vibration_1hr_mean"] == 3.0
    assert at(60)["vibration_1hr_mean"] == 5.0  # the reading exactly an hour old has left the 1-hour window
    assert at(300)["vibration_1hr_mean"] == 8.0  # a gap shrinks the window instead of reaching back
    assert at(300)["temp_4hr_mean"] == 240.0  # the 230 °F reading is exactly 4 h old: outside
    assert at(60)["temp_4hr_mean"] == pytest.approx((200.0 + 210.0 + 230.0) / 3)
    assert at(300)["pressure_24hr_mean"] == pytest.approx(1075.0)
    assert at(60)["temp_1hr_delta"] == 30.0  # 230 now − 200 one hour ago
    assert at(30)["temp_1hr_delta"] == 10.0
    assert at(60)["pressure_differential"] == 1150.0
    assert at(0)["station_id"] == "STN-001"
    assert out[("COMP-002", T0 + timedelta(minutes=30))]["vibration_1hr_mean"] == 100.0


def test_time_features_use_iso_weekdays(spark, config):
    rows = [("COMP-001", 0, 2.0, 200.0, 60.0, 1000.0), ("COMP-001", 60 * 48 + 90, 2.0, 200.0, 60.0, 1000.0)]
    out = gold.to_sensor_features(_silver(spark, rows), _compressors(spark), config).orderBy("timestamp").collect()
    assert (out[0]["hour_of_day"], out[0]["day_of_week"], out[0]["is_weekend"]) == (0, 6, True)  # Saturday
    assert (out[1]["hour_of_day"], out[1]["day_of_week"], out[1]["is_weekend"]) == (1, 1, False)  # Monday


def test_statuses_latch_with_hysteresis(spark, config):
    # Readings an hour apart, so each 1-hour mean is the reading itself.
    temps = [250.0, 331.0, 320.0, 340.0, 351.0, 334.0, 332.0, 312.0, 250.0]
    rows = [("COMP-001", 60 * i, 2.0, t, 60.0, 1000.0) for i, t in enumerate(temps)]
    out = gold.to_sensor_features(_silver(spark, rows), _compressors(spark), config).orderBy("timestamp")
    assert [r["temp_status"] for r in out.collect()] == [
        "normal",
        "warning",
        "warning",  # 320 is still above 330 − 16.5: stays warning
        "warning",
        "critical",
        "critical",  # 334 is above 350 − 17.5: stays critical
        "warning",
        "normal",
        "normal",  # 332 < 332.5 drops to warning; 312 < 313.5 clears
    ]


def test_low_limits_alarm_downwards(spark, config):
    suctions = [60.0, 29.0, 19.0, 31.0, 40.0]
    rows = [("COMP-001", 60 * i, 2.0, 250.0, s, 1000.0) for i, s in enumerate(suctions)]
    out = gold.to_sensor_features(_silver(spark, rows), _compressors(spark), config).orderBy("timestamp")
    assert [r["pressure_status"] for r in out.collect()] == ["normal", "warning", "critical", "warning", "normal"]


def test_hourly_rows_aggregate_and_keep_the_worst_status(spark, config):
    rows = [
        ("COMP-001", 0, 2.0, 250.0, 60.0, 1000.0),
        ("COMP-001", 10, 4.0, 260.0, 58.0, 1010.0),
        ("COMP-001", 20, 9.0, 250.0, 61.0, 1005.0),
        ("COMP-001", 70, 2.0, 250.0, 60.0, 1000.0),
    ]
    features = gold.to_sensor_features(_silver(spark, rows), _compressors(spark), config)
    hourly = {r["hour_start"]: r for r in gold.to_hourly_readings(features).collect()}
    first = hourly[T0]
    assert first["reading_count"] == 3
    assert first["vibration_mean"] == 5.0 and first["vibration_max"] == 9.0
    assert first["suction_pressure_min"] == 58.0 and first["discharge_pressure_max"] == 1010.0
    assert first["vibration_status"] == "warning"  # the 1-hour mean reached 5.0 ≥ 4.5
    assert first["health_status"] == "warning"
    assert hourly[T0 + timedelta(hours=1)]["reading_count"] == 1
    assert features.filter(F.col("vibration_status") == "critical").count() == 0


def test_features_and_hourly_rows_have_their_declared_schemas(spark, config):
    features = gold.to_sensor_features(
        _silver(spark, [("COMP-001", 0, 2.0, 250.0, 60.0, 1000.0)]), _compressors(spark), config
    )
    assert features.schema.fieldNames() == GOLD_SENSOR_FEATURES.fieldNames()
    assert [f.dataType for f in features.schema] == [f.dataType for f in GOLD_SENSOR_FEATURES]
    hourly = gold.to_hourly_readings(features)
    assert [(f.name, f.dataType) for f in hourly.schema] == [(f.name, f.dataType) for f in GOLD_HOURLY_READINGS]


def test_a_later_hour_recomputed_with_its_lookback_equals_the_whole_computation(spark, config):
    """What an incremental run does: features from hour 30 on, from silver since hour 6, with the
    levels the previous reading had, equal the features of one computation over all of it."""
    # Vibration warns from hour 25 and then sits inside the hysteresis band (4.4 mm/s: below the
    # 4.5 limit, above its 4.275 clear point): only the carried level keeps the warning on.
    vibration = [2.0] * 150 + [5.0] * 30 + [4.4] * 60
    rows = [
        ("COMP-001", 10 * i, v, 250.0 + 0.5 * i + (i % 3), 60.0 - (i % 5), 1000.0 + 7 * (i % 11))
        for i, v in enumerate(vibration)
    ]
    silver = _silver(spark, rows)
    compressors = _compressors(spark)
    whole = gold.to_sensor_features(silver, compressors, config)
    start = T0 + timedelta(hours=30)
    previous = whole.filter(F.col("timestamp") < start).orderBy(F.col("timestamp").desc()).first()
    scope = spark.createDataFrame(
        [
            (
                "COMP-001",
                start,
                *[
                    previous[f"{s}_level"]
                    for s in ("vibration_mms", "discharge_temp_f", "discharge_pressure_psi", "suction_pressure_psi")
                ],
            )
        ],
        "compressor_id string, _level_from timestamp, _carried_vibration_mms_level int, "
        "_carried_discharge_temp_f_level int, _carried_discharge_pressure_psi_level int, "
        "_carried_suction_pressure_psi_level int",
    )
    context = silver.filter(F.col("timestamp") >= start - gold.LOOKBACK)
    part = gold.to_sensor_features(context, compressors, config, scope)
    expected = whole.filter(F.col("timestamp") >= start)
    assert part.count() == expected.count() == 60
    assert sorted(map(tuple, part.collect())) == sorted(map(tuple, expected.collect()))
    assert {r["vibration_status"] for r in expected.collect()} == {"warning"}


def test_window_means_are_exact_over_micro_units(spark):
    df = spark.createDataFrame(
        [("COMP-001", T0 + timedelta(minutes=m), v) for m, v in ((0, 0.1), (10, 0.2), (20, 0.7))],
        "compressor_id string, timestamp timestamp, x double",
    )
    out = df.transform(gold.with_trailing_means, {"m": ("x", 3600)}).transform(gold.with_change_over, "x", 600, "d")
    rows = {r["timestamp"]: r for r in out.collect()}
    assert rows[T0 + timedelta(minutes=20)]["m"] == 1.0 / 3  # (0.1 + 0.2 + 0.7) / 3, no float drift
    assert rows[T0 + timedelta(minutes=20)]["d"] == pytest.approx(0.5)  # 0.7 now − 0.2 ten minutes ago
    assert rows[T0]["d"] == 0.0
