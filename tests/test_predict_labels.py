"""Labels from maintenance work orders: RUL and fails-within-horizon, censoring, no answer key."""

from datetime import UTC, datetime, timedelta

from altaviz.predict.labels import to_labels
from altaviz.schemas import SILVER_MAINTENANCE_EVENTS

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOURLY = "compressor_id string, hour_start timestamp, health_status string"


def _hourly(spark, unit, hours, down=()):
    return spark.createDataFrame(
        [(unit, T0 + timedelta(hours=h), "down" if h in down else "normal") for h in range(hours)], HOURLY
    )


def _events(spark, rows):
    """rows: (unit, event_type, start hour, end hour or None)."""
    return spark.createDataFrame(
        [
            (f"WO-{i}", u, kind, None, T0 + timedelta(hours=s), None if e is None else T0 + timedelta(hours=e), "", "r")
            for i, (u, kind, s, e) in enumerate(rows)
        ],
        SILVER_MAINTENANCE_EVENTS,
    )


def _labels(hourly, events, horizon=72, cap=100):
    rows = to_labels(hourly, events, horizon_hours=horizon, rul_cap_hours=cap).collect()
    return {int((r["hour_start"] - T0.replace(tzinfo=None)).total_seconds() // 3600): r for r in rows}


def test_rul_counts_down_to_the_failure_work_order_and_is_capped(spark):
    out = _labels(_hourly(spark, "U1", 200), _events(spark, [("U1", "failure", 150, 170)]))
    assert out[149]["rul_hours"] == 1.0
    assert out[100]["rul_hours"] == 50.0
    assert out[0]["rul_hours"] == 100.0  # 150 h ahead, capped at 100
    assert out[100]["fails_within_horizon"] is True and out[78]["fails_within_horizon"] is True
    assert out[77]["fails_within_horizon"] is False  # 73 h ahead
    assert not out[100]["is_censored"]


def test_repair_window_and_down_hours_are_not_labelled(spark):
    hourly = _hourly(spark, "U1", 200, down={40, 41})
    out = _labels(hourly, _events(spark, [("U1", "failure", 150, 170)]))
    assert 40 not in out and 41 not in out
    assert not any(h in out for h in range(150, 170))
    assert 170 in out


def test_no_failure_ahead_is_censored_near_the_end_of_observation(spark):
    """After the last failure the unit is healthy only as far as it was observed."""
    out = _labels(_hourly(spark, "U1", 200), _events(spark, [("U1", "failure", 20, 30)]), cap=100)
    # 200 - 127 = 73 h seen after hour 127: healthy for the horizon, not yet for the RUL cap
    assert out[127]["fails_within_horizon"] is False
    assert out[127]["rul_hours"] is None and out[127]["is_censored"]
    assert out[99]["rul_hours"] == 100.0 and not out[99]["is_censored"]
    assert out[150]["fails_within_horizon"] is None and out[150]["is_censored"]


def test_a_corrective_repair_ahead_censors_instead_of_calling_the_unit_healthy(spark):
    out = _labels(_hourly(spark, "U1", 300), _events(spark, [("U1", "corrective_repair", 100, 110)]))
    assert out[90]["fails_within_horizon"] is None  # caught 10 h later: would it have failed? unknown
    assert out[20]["fails_within_horizon"] is False  # 80 h of known health ahead
    assert out[150]["fails_within_horizon"] is False


def test_labels_never_leak_across_units_or_backwards_in_time(spark):
    hourly = _hourly(spark, "U1", 100).unionByName(_hourly(spark, "U2", 100))
    out = to_labels(hourly, _events(spark, [("U2", "failure", 50, 60)]), horizon_hours=72, rul_cap_hours=100).collect()
    u1 = [r for r in out if r["compressor_id"] == "U1"]
    assert all(r["next_failure_at"] is None for r in u1)
    u2_after = [r for r in out if r["compressor_id"] == "U2" and r["hour_start"] >= datetime(2026, 3, 3, 12)]
    assert u2_after and all(r["next_failure_at"] is None for r in u2_after)


def test_preventive_maintenance_is_a_down_window_not_a_failure(spark):
    out = _labels(_hourly(spark, "U1", 200), _events(spark, [("U1", "preventive_maintenance", 50, 60)]))
    assert 55 not in out
    assert out[40]["fails_within_horizon"] is False and out[40]["next_failure_at"] is None


def test_the_training_split_holds_no_test_unit_and_no_label_from_after_the_cut(spark, config):
    from pyspark.sql import functions as F

    from altaviz.predict.train import is_test_unit, split
    from altaviz.schemas import GOLD_HOURLY_READINGS

    units = [f"COMP-{i:03d}" for i in range(1, 9)]
    rows = [
        (u, T0 + timedelta(hours=h), 6, 2.5, 3.0, 250.0, 252.0, 60.0, 58.0, 1000.0, 1010.0, 940.0, 1200.0, 9000.0,
         "normal", "normal", "normal", "normal", (T0 + timedelta(hours=h)).date())
        for u in units for h in range(100)
    ]  # fmt: skip
    hourly = spark.createDataFrame(rows, GOLD_HOURLY_READINGS)
    # every unit fails 10 h after the cut (hour 70 of 0..99 at train_time_fraction 0.7)
    events = _events(spark, [(u, "failure", 80, 90) for u in units])
    train, test, cut = split(hourly, events, config)
    train_units = {r[0] for r in train.select("compressor_id").distinct().collect()}
    test_units = {r[0] for r in test.select("compressor_id").distinct().collect()}
    fraction = config.predictions.test_unit_fraction
    assert test_units == {u for u in units if is_test_unit(u, fraction)} and not (train_units & test_units)
    assert train.agg(F.max("hour_start")).first()[0] < cut <= test.agg(F.min("hour_start")).first()[0]
    # The failure after the cut is unknown to training: its last hours are censored, not positive.
    assert train.filter(F.col("fails_within_horizon")).count() == 0
    assert test.filter(F.col("fails_within_horizon")).count() > 0
