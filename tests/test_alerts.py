from datetime import datetime, timedelta

from altaviz import gold
from altaviz.alerts import to_alert_episodes, to_episode_changes, to_episode_starts, to_sensor_levels_long
from altaviz.schemas import ALERT_EPISODES

from .conftest import silver_frame

T0 = datetime(2026, 1, 1)


def _features(spark, config, vibrations, unit="COMP-001"):
    rows = [(unit, T0 + timedelta(hours=i), v, 250.0, 60.0, 1000.0) for i, v in enumerate(vibrations)]
    compressors = spark.createDataFrame(
        [(unit, "STN-001", 1480)], "compressor_id string, station_id string, rated_horsepower int"
    )
    return gold.to_sensor_features(silver_frame(spark, rows), compressors, config)


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


def _scope(spark, level_from, carried_vibration_level):
    return spark.createDataFrame(
        [("COMP-001", level_from, carried_vibration_level, 0, 0, 0)],
        "compressor_id string, _level_from timestamp, _carried_vibration_mms_level int, "
        "_carried_discharge_temp_f_level int, _carried_discharge_pressure_psi_level int, "
        "_carried_suction_pressure_psi_level int",
    )


def test_a_run_that_starts_mid_episode_continues_its_levels(spark, config):
    """Levels from hour 4 on, given the level carried from hour 3, equal the unbroken computation."""
    # Critical from hour 2; 6.9 and 7.0 sit in the critical band (below 7.1, above its 6.745 clear point).
    vibrations = [2.0, 5.0, 7.5, 6.9, 7.0, 4.4, 4.0, 2.0]
    compressors = spark.createDataFrame(
        [("COMP-001", "STN-001", 1480)], "compressor_id string, station_id string, rated_horsepower int"
    )
    silver = silver_frame(spark, [("COMP-001", T0 + timedelta(hours=i), v) for i, v in enumerate(vibrations)])
    whole = {
        r["timestamp"]: r["vibration_mms_level"] for r in gold.to_sensor_features(silver, compressors, config).collect()
    }
    assert whole[T0 + timedelta(hours=3)] == 2
    later = gold.to_sensor_features(silver, compressors, config, _scope(spark, T0 + timedelta(hours=4), 2)).collect()
    assert {r["timestamp"]: r["vibration_mms_level"] for r in later} == {
        t: level for t, level in whole.items() if t >= T0 + timedelta(hours=4)
    }
    forgotten = gold.to_sensor_features(silver, compressors, config, _scope(spark, T0 + timedelta(hours=4), None))
    assert forgotten.orderBy("timestamp").first()["vibration_mms_level"] == 1  # without the carry, 7.0 only warns


def test_an_open_episode_is_rebuilt_from_its_opening_with_the_same_id(spark, config):
    vibrations = [2.0, 5.0, 5.1, 5.2, 5.3, 2.0]
    features = _features(spark, config, vibrations)
    first_day = to_alert_episodes(
        to_sensor_levels_long(features.filter(features.timestamp < T0 + timedelta(hours=3)), config.thresholds)
    )
    assert [(e["is_active"], e["reading_count"]) for e in first_day.collect()] == [(True, 2)]
    scope = _scope(spark, T0 + timedelta(hours=3), 1)
    starts = to_episode_starts(scope, first_day, list(config.thresholds))
    froms = {r["sensor"]: r["_episode_from"] for r in starts.collect()}
    assert froms["vibration_mms"] == T0 + timedelta(hours=1)  # the open episode's opening
    assert froms["discharge_temp_f"] == T0 + timedelta(hours=3)
    levels = to_sensor_levels_long(features, config.thresholds).join(starts, ["compressor_id", "sensor"])
    rebuilt = to_alert_episodes(levels.filter(levels.timestamp >= levels._episode_from).drop("_episode_from"))
    changes = to_episode_changes(rebuilt, first_day, starts).collect()
    assert len(changes) == 1 and not changes[0]["_delete"]
    assert changes[0]["alert_id"] == first_day.first()["alert_id"]
    assert (changes[0]["is_active"], changes[0]["reading_count"]) == (False, 4)


def test_an_episode_no_longer_rebuilt_is_marked_for_deletion(spark, config):
    existing = _features(spark, config, [2.0, 2.0, 5.0, 2.0])
    stale = to_alert_episodes(to_sensor_levels_long(existing, config.thresholds))
    corrected = to_alert_episodes(
        to_sensor_levels_long(_features(spark, config, [2.0, 2.0, 2.0, 2.0]), config.thresholds)
    )
    starts = to_episode_starts(_scope(spark, T0, 0), stale, list(config.thresholds))
    changes = to_episode_changes(corrected, stale, starts).collect()
    assert [(c["alert_id"], c["_delete"]) for c in changes] == [(stale.first()["alert_id"], True)]


def test_a_stop_silences_the_process_limits_and_is_one_running_state_episode(spark, config):
    # Vibration in warning, then the unit trips (no power, no flow) for three hours, then runs
    # healthy again: the vibration episode ends at the trip, the stop is its own episode.
    hp = [1200.0, 1200.0, 1200.0, 0.0, 0.0, 0.0, 1200.0, 1200.0]
    vib = [2.0, 5.5, 6.0, 0.05, 0.05, 0.05, 2.0, 2.0]
    rows = [
        ("COMP-001", T0 + timedelta(hours=i), v, 250.0, 60.0, 1000.0, h, 9000.0 if h else 0.0)
        for i, (v, h) in enumerate(zip(vib, hp, strict=True))
    ]
    compressors = spark.createDataFrame(
        [("COMP-001", "STN-001", 1480)], "compressor_id string, station_id string, rated_horsepower int"
    )
    features = gold.to_sensor_features(silver_frame(spark, rows), compressors, config)
    running = [r["is_running"] for r in features.orderBy("timestamp").collect()]
    assert running == [h > 0 for h in hp]
    episodes = {e["sensor"]: e for e in to_alert_episodes(to_sensor_levels_long(features, config.thresholds)).collect()}
    assert set(episodes) == {"vibration_mms", "running_state"}
    assert episodes["vibration_mms"]["cleared_at"] == T0 + timedelta(hours=3)  # silenced by the trip
    stop = episodes["running_state"]
    assert (stop["opened_at"], stop["cleared_at"], stop["severity"]) == (
        T0 + timedelta(hours=3),
        T0 + timedelta(hours=6),
        "warning",
    )
    hourly = {r["hour_start"]: r["health_status"] for r in gold.to_hourly_readings(features).collect()}
    assert [hourly[T0 + timedelta(hours=i)] for i in range(8)] == [
        "normal",
        "warning",
        "warning",
        "down",
        "down",
        "down",
        "normal",
        "normal",
    ]
