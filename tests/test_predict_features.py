"""Features over gold hourly rows: slopes, own-baseline deviations, stopped hours left out."""

from datetime import UTC, datetime, timedelta

import pytest

from altaviz.predict.features import FEATURE_COLUMNS, to_features, unit_baselines, with_derived_signals
from altaviz.schemas import GOLD_HOURLY_READINGS

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _hourly(spark, unit, hours, temp=lambda h: 250.0, down=(), flow=9000.0):
    rows = []
    for h in range(hours):
        is_down = h in down
        when = T0 + timedelta(hours=h)
        hp, gas = (0.0, 0.0) if is_down else (1200.0, flow)
        rows.append(
            (unit, when, 6, 2.5, 3.0, temp(h), temp(h) + 2, 60.0, 58.0, 1000.0, 1010.0, 940.0, hp, gas,
             "normal", "normal", "normal", "down" if is_down else "normal", when.date())
        )  # fmt: skip
    return spark.createDataFrame(rows, GOLD_HOURLY_READINGS)


def _features(spark, hourly, baseline_days=2):
    out = to_features(hourly, unit_baselines(with_derived_signals(hourly).filter("health_status != 'down'"),
                                             baseline_days)).collect()  # fmt: skip
    return {(r["compressor_id"], int((r["hour_start"] - T0.replace(tzinfo=None)).total_seconds() // 3600)): r
            for r in out}  # fmt: skip


def test_every_feature_column_is_produced(spark):
    out = to_features(_hourly(spark, "U1", 3), unit_baselines(with_derived_signals(_hourly(spark, "U1", 3)), 1))
    assert set(FEATURE_COLUMNS) <= set(out.columns)


def test_a_rising_temperature_has_its_slope_and_deviation_from_the_units_baseline(spark):
    # flat 250 °F for three days, then +1 °F per hour
    hourly = _hourly(spark, "U1", 24 * 5, temp=lambda h: 250.0 + max(0, h - 72))
    out = _features(spark, hourly)
    late = out[("U1", 24 * 5 - 1)]
    assert late["discharge_temp_mean_slope_24h"] == pytest.approx(1.0)
    assert late["discharge_temp_mean_dev"] == pytest.approx(47 - 2.5)  # 6 h mean of 42..47 above 250
    assert 0 < late["discharge_temp_mean_slope_7d"] < 1.0
    flat = out[("U1", 60)]
    assert flat["discharge_temp_mean_slope_24h"] == pytest.approx(0.0)
    assert flat["discharge_temp_mean_dev"] == pytest.approx(0.0)


def test_deviation_is_against_each_units_own_baseline(spark):
    """A unit that always runs at lower flow is not degrading; one that loses flow is."""
    low = _hourly(spark, "LOW", 72, flow=7000.0)
    losing = spark.createDataFrame(
        [r if r["hour_start"] < datetime(2026, 3, 3) else r.asDict() | {"gas_flow_mean": 7000.0}
         for r in _hourly(spark, "LOSING", 72).collect()],
        GOLD_HOURLY_READINGS,
    )  # fmt: skip
    out = _features(spark, low.unionByName(losing))
    assert out[("LOW", 71)]["gas_flow_mean_dev"] == pytest.approx(0.0)
    assert out[("LOSING", 71)]["gas_flow_mean_dev"] == pytest.approx(-2000.0)
    assert out[("LOSING", 71)]["hp_per_flow_dev"] > 0


def test_stopped_hours_are_neither_scored_nor_in_any_window(spark):
    hourly = _hourly(spark, "U1", 48, down=set(range(20, 30)))
    out = _features(spark, hourly)
    assert not any(("U1", h) in out for h in range(20, 30))
    after = out[("U1", 35)]
    assert after["gas_flow_mean_6h"] == pytest.approx(9000.0)  # the trip's zero flow is not averaged in
    assert after["hours_running_7d"] == 26.0


def test_no_deviation_before_the_baseline_span_is_complete(spark):
    """A daily run on day 1 and a long run must give day 1 the same features."""
    out = _features(spark, _hourly(spark, "U1", 72), baseline_days=2)
    assert out[("U1", 47)]["gas_flow_mean_dev"] is None and out[("U1", 47)]["load_vs_baseline"] is None
    assert out[("U1", 48)]["gas_flow_mean_dev"] == pytest.approx(0.0)
