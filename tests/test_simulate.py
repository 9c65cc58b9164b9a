from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from altaviz import simulate
from altaviz.config import FailureSpec
from altaviz.schemas import RAW_SENSOR_READINGS

START = datetime(2026, 1, 1, tzinfo=UTC)


def _plan(config, **overrides):
    values = dict(
        epoch=START,
        start=START,
        days=7.0,
        interval_minutes=10,
        n_compressors=10,
        n_stations=4,
        seed=42,
        failures=config.simulation.failures,
    )
    values.update(overrides)
    return simulate.SimulationPlan(**values)


def _fleet(config, n=10, stations=4, seed=42):
    st = simulate.fleet_stations(config, stations, seed)
    return st, simulate.fleet_compressors(config, n, st, seed)


def test_default_fleet_is_ten_units_at_four_texas_basin_stations(config):
    stations, compressors = _fleet(config)
    assert [s["basin"] for s in stations] == ["Permian", "Eagle Ford", "Haynesville", "Barnett"]
    assert all(25 < s["latitude"] < 37 and -107 < s["longitude"] < -93 for s in stations)
    assert [c["compressor_id"] for c in compressors] == [f"COMP-{i:03d}" for i in range(1, 11)]
    assert {c["station_id"] for c in compressors} == {s["station_id"] for s in stations}
    assert all(c["rated_horsepower"] > 1000 and c["model"] for c in compressors)


def test_extra_stations_are_generated_around_the_basin_hubs(config):
    stations, compressors = _fleet(config, n=1000, stations=40)
    assert len({s["station_id"] for s in stations}) == 40
    assert len(compressors) == 1000 and compressors[-1]["compressor_id"] == "COMP-1000"
    assert all(25 < s["latitude"] < 37 for s in stations)


def test_default_batch_has_10080_rows_in_the_raw_schema(spark, config):
    plan = _plan(config)
    df = simulate.simulate_readings(spark, plan, _fleet(config)[1])
    assert df.schema == RAW_SENSOR_READINGS
    assert df.count() == 10_080
    span = df.agg(F.min("timestamp"), F.max("timestamp")).first()
    assert span[0] == START.replace(tzinfo=None) and span[1] == (START + timedelta(days=7, minutes=-10)).replace(
        tzinfo=None
    )


def test_same_seed_same_readings_other_seed_other_readings(spark, config):
    compressors = _fleet(config, n=2)[1]
    a = simulate.simulate_readings(spark, _plan(config, n_compressors=2, days=0.5), compressors)
    b = simulate.simulate_readings(spark, _plan(config, n_compressors=2, days=0.5), compressors)
    c = simulate.simulate_readings(spark, _plan(config, n_compressors=2, days=0.5, seed=7), compressors)
    assert a.exceptAll(b).count() == 0 and a.count() == b.count() == 144
    assert a.exceptAll(c).count() == 144


def test_comp003_degrades_exponentially_then_fails_while_healthy_units_stay_normal(spark, config):
    df = simulate.simulate_readings(spark, _plan(config), _fleet(config)[1]).cache()

    def daily_mean(unit, day, column):
        lo = START + timedelta(days=day)
        return (
            df.filter((F.col("compressor_id") == unit) & F.col("timestamp").between(lo, lo + timedelta(hours=4)))
            .agg(F.avg(column))
            .first()[0]
        )

    vib = [daily_mean("COMP-003", d, "vibration_mms") for d in (2, 4, 5, 6)]
    assert vib[0] < 4.5  # healthy before onset (day 3)
    assert vib[0] < vib[1] < vib[2] < vib[3] and vib[3] > 7.1  # grows past the critical limit by failure
    assert (vib[3] - vib[2]) > (vib[2] - vib[1])  # exponential, not linear
    assert daily_mean("COMP-003", 6, "discharge_temp_f") > 350
    healthy = df.filter(~F.col("compressor_id").isin("COMP-003", "COMP-007"))
    extremes = healthy.agg(F.max("vibration_mms"), F.max("discharge_temp_f"), F.min("suction_pressure_psi")).first()
    assert extremes[0] < 4.5 and extremes[1] < 313.5 and extremes[2] > 30
    # COMP-007 starts degrading on day 5 and is not failed by day 7.
    assert daily_mean("COMP-007", 4, "vibration_mms") < 4.0 < daily_mean("COMP-007", 6.6, "vibration_mms") < 7.1
    assert (
        df.filter("discharge_pressure_psi <= suction_pressure_psi OR horsepower <= 0 OR gas_flow_mcf <= 0").count() == 0
    )


def test_ground_truth_and_batch_id_follow_the_plan(config):
    plan = _plan(config)
    truth = {t["compressor_id"]: t for t in simulate.ground_truth(plan)}
    assert truth["COMP-003"]["failure_at"] == START + timedelta(days=6)
    assert truth["COMP-003"]["degradation_start"] == START + timedelta(days=3)
    assert plan.batch_id == _plan(config).batch_id != _plan(config, seed=1).batch_id
    assert plan.batch_id.startswith("sim-20260101T0000-")
    # A batch of days 0–2 lands no answer for degradations that start later.
    assert simulate.ground_truth(_plan(config, days=2.0)) == []


def test_one_day_batches_continue_the_fleet_and_land_the_readings_of_one_long_batch(spark, config):
    compressors = _fleet(config, n=3)[1]
    failures = (FailureSpec(compressor_id="COMP-002", degradation_start_day=1.0, failure_day=2.5),)
    whole = simulate.simulate_readings(spark, _plan(config, n_compressors=3, days=3.0, failures=failures), compressors)
    days = None
    for day in range(3):
        plan = _plan(config, n_compressors=3, days=1.0, start=START + timedelta(days=day), failures=failures)
        batch = simulate.simulate_readings(spark, plan, compressors)
        days = batch if days is None else days.unionByName(batch)
    assert whole.count() == days.count() == 3 * 432
    assert whole.exceptAll(days).count() == 0 and days.exceptAll(whole).count() == 0
    # The schedule counts from the epoch: the third day alone shows COMP-002 failed.
    third = days.filter((F.col("compressor_id") == "COMP-002") & (F.col("timestamp") >= START + timedelta(days=2.6)))
    assert third.agg(F.min("vibration_mms")).first()[0] > 7.1


def test_the_fleet_epoch_is_remembered_and_guarded(spark, tmp_path):
    from altaviz.jobs import fleet_epoch
    from altaviz.lakehouse import Lakehouse

    lh = Lakehouse(str(tmp_path))
    first = fleet_epoch(spark, lh, None, START)
    assert first == START
    assert fleet_epoch(spark, lh, None, START + timedelta(days=5)) == START  # a later batch continues it
    assert fleet_epoch(spark, lh, START, START + timedelta(days=5)) == START
    with pytest.raises(ValueError, match="would start another fleet"):
        fleet_epoch(spark, lh, START + timedelta(days=1), START)


def test_failure_must_come_after_onset():
    with pytest.raises(ValueError, match="failure_day"):
        FailureSpec(compressor_id="COMP-001", degradation_start_day=4, failure_day=2)
