from datetime import datetime, timedelta

from altaviz import gold
from altaviz.alerts import to_alert_episodes, to_sensor_levels_long
from altaviz.schemas import ALERT_EPISODES, SILVER_SENSOR_READINGS

T0 = datetime(2026, 1, 1)


def _features(spark, config, vibrations, unit="COMP-001"):
    rows = [
        (unit, T0 + timedelta(hours=i), v, 250.0, 60.0, 1000.0, 1200.0, 9000.0, f"r{i}", "f", "b", "s")
        for i, v in enumerate(vibrations)
    ]
    compressors = spark.createDataFrame([(unit, "STN-001")], "compressor_id string, station_id string")
    return gold.to_sensor_features(spark.createDataFrame(rows, SILVER_SENSOR_READINGS), compressors, config)


def _episodes(spark, config, vibrations):
    levels = to_sensor_levels_long(_features(spark, config, vibrations), config.thresholds)
    return sorted(to_alert_episodes(levels).collect(), key=lambda r: r["opened_at"])


def test_one_episode_opens_escalates_and_clears(spark, config):
    eps = _episodes(spark, config, [2.0, 5.0, 4.4, 7.5, 6.0, 4.0, 2.0, 2.0])
    assert len(eps) == 1
    e = eps[0]
    assert (e["sensor"], e["severity"], e["current_severity"], e["is_active"]) == (
        "vibration_mms",
        "critical",
        "normal",
        False,
    )
    assert e["opened_at"] == T0 + timedelta(hours=1)
    assert e["escalated_at"] == T0 + timedelta(hours=3)
    # 6.0 < 7.1 − 0.355 de-escalates to warning; 4.0 < 4.5 − 0.225 clears (4.4 did not).
    assert e["cleared_at"] == T0 + timedelta(hours=5)
    assert e["peak_value"] == 7.5 and e["threshold_value"] == 7.1 and e["reading_count"] == 4


def test_noise_around_a_limit_is_one_episode_not_many(spark, config):
    eps = _episodes(spark, config, [4.3, 4.6, 4.4, 4.6, 4.4, 4.6, 4.4, 4.5])
    assert len(eps) == 1 and eps[0]["is_active"] and eps[0]["current_severity"] == "warning"


def test_separate_excursions_are_separate_episodes_with_stable_ids(spark, config):
    series = [5.0, 2.0, 5.0, 2.0]
    first = _episodes(spark, config, series)
    again = _episodes(spark, config, series)
    assert len(first) == 2 and all(e["severity"] == "warning" for e in first)
    assert [e["alert_id"] for e in first] == [e["alert_id"] for e in again]
    assert len({e["alert_id"] for e in first}) == 2


def test_episode_schema_and_no_alerts_for_a_healthy_unit(spark, config):
    levels = to_sensor_levels_long(_features(spark, config, [2.0, 2.1, 2.2]), config.thresholds)
    episodes = to_alert_episodes(levels)
    assert [(f.name, f.dataType) for f in episodes.schema.fields] == [
        (f.name, f.dataType) for f in ALERT_EPISODES.fields
    ]
    assert episodes.count() == 0
