from datetime import datetime, timedelta

import pytest
from altaviz import gold
from altaviz.schemas import SILVER_SENSOR_READINGS
from pyspark.sql import functions as F

T0 = datetime(2026, 1, 3)  # a Saturday


def _silver(spark, rows):
    """rows: (unit, minutes after T0, vib, temp, suction, discharge)."""
    return spark.createDataFrame(
        [
            (u, T0 + timedelta(minutes=m), v, t, s, d, 1200.0, 9000.0, f"r{i}", "f", "b", "s")
            for i, (u, m, v, t, s, d) in enumerate(rows)
        ],
        SILVER_SENSOR_READINGS,
    )


def _compressors(spark):
    return spark.createDataFrame(
        [("COMP-001", "STN-001"), ("COMP-002", "STN-002")], "compressor_id string, station_id string"
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
