"""The simulator: the fleet, each failure mode's signature, shutdowns, sensor faults, operating
context, maintenance records and the event rates. Signatures are measured against a healthy twin:
the same seed and unit without the event, whose noise is identical, so a difference is the event."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from altaviz import simulate
from altaviz.config import FailureSpec, SensorFaultSpec
from altaviz.schemas import RAW_SENSOR_READINGS

START = datetime(2026, 7, 1, tzinfo=UTC)  # summer: hot afternoons for the cooler
SENSORS = list(RAW_SENSOR_READINGS.fieldNames()[2:])


def _quiet(config):
    """The configuration with no drawn events: every difference is a scheduled one."""
    sim = config.simulation.model_copy(
        update={
            "failure_rate_per_unit_year": 0.0,
            "idle_periods_per_unit_year": 0.0,
            "sensor_faults_per_unit_year": 0.0,
            "preventive_maintenance_interval_days": 100_000.0,
            "sensor_faults": (),
        }
    )
    return config.model_copy(update={"simulation": sim})


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
        failure_rate_per_unit_year=config.simulation.failure_rate_per_unit_year,
        sensor_faults=config.simulation.sensor_faults,
    )
    values.update(overrides)
    return simulate.SimulationPlan(**values)


def _fleet(config, n=10, stations=4, seed=42):
    st = simulate.fleet_stations(config, stations, seed)
    return st, simulate.fleet_compressors(config, n, st, seed)


def _readings(spark, config, plan, **kwargs) -> pd.DataFrame:
    stations, compressors = _fleet(config, n=plan.n_compressors)
    df = simulate.simulate_readings(spark, plan, compressors, config, stations, **kwargs).toPandas()
    return df.sort_values(["compressor_id", "timestamp"]).reset_index(drop=True)


def _twin(spark, config, unit_plan_kwargs, window_days=None):
    """(with the event, healthy twin) readings of a 2-unit fleet, COMP-001 carrying the event."""
    quiet = _quiet(config)
    base = dict(n_compressors=2, failures=(), sensor_faults=(), days=4.0)
    event = _readings(spark, quiet, _plan(quiet, **{**base, **unit_plan_kwargs}))
    healthy = _readings(spark, quiet, _plan(quiet, **base))
    return event, healthy


def _at(df, unit, lo_day, hi_day):
    t0 = START.replace(tzinfo=None)
    m = (
        (df.compressor_id == unit)
        & (df.timestamp >= t0 + timedelta(days=lo_day))
        & (df.timestamp < t0 + timedelta(days=hi_day))
    )
    return df[m].set_index("timestamp")[SENSORS]


def _shift(event, healthy, lo_day, hi_day, unit="COMP-001"):
    """Mean change of each sensor over a window, relative to the healthy twin."""
    return (_at(event, unit, lo_day, hi_day) - _at(healthy, unit, lo_day, hi_day)).mean()


def _failure(mode, onset=1.0, fails=3.0):
    return (FailureSpec(compressor_id="COMP-001", degradation_start_day=onset, failure_day=fails, failure_mode=mode),)


# ---------------------------------------------------------------- the fleet


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


def test_the_default_story_is_two_scheduled_failures_and_one_fault_of_each_kind(config):
    plan = _plan(config)
    events = {e.compressor_id: e for e in simulate.fleet_events(config, plan, _fleet(config)[1])}
    in_week = [(u, d.mode) for u, e in events.items() for d in e.degradations if d.onset < plan.end]
    assert sorted(in_week) == [("COMP-003", "bearing"), ("COMP-007", "valve")]
    comp3 = events["COMP-003"].degradations[0]
    assert (comp3.onset, comp3.fails_at) == (START + timedelta(days=3), START + timedelta(days=6))
    kinds = Counter(
        f.kind
        for e in events.values()
        for f in e.faults
        if f.start < plan.end and e.compressor_id in {f.compressor_id for f in config.simulation.sensor_faults}
    )
    assert set(kinds) == {"stuck", "drift", "dropout", "spike", "wrong_unit"}
    truth = {t["compressor_id"]: t for t in simulate.ground_truth(plan, list(events.values()))}
    assert truth["COMP-003"]["failure_mode"] == "bearing"
    assert truth["COMP-003"]["failure_at"] == START + timedelta(days=6)
    assert truth["COMP-007"]["failure_at"] == START + timedelta(days=8)  # after the window: still ahead


# ---------------------------------------------------------------- failure modes


def test_valve_failure_heats_the_discharge_cuts_flow_and_disturbs_the_pressure_ratio(spark, config):
    event, healthy = _twin(spark, config, {"failures": _failure("valve")})
    early, late = _shift(event, healthy, 1.2, 1.5), _shift(event, healthy, 2.6, 2.95)
    assert late["discharge_temp_f"] > 60 and late["discharge_temp_f"] > 4 * early["discharge_temp_f"]
    assert late["gas_flow_mcf"] < -1000  # capacity lost
    assert late["suction_pressure_psi"] > 1.5 and late["discharge_pressure_psi"] < -30
    assert (_shift(event, healthy, 0.0, 1.0).abs() < 1e-9).all()  # nothing before the onset


def test_bearing_wear_raises_vibration_with_a_growing_spread_and_nothing_else_but_heat(spark, config):
    event, healthy = _twin(spark, config, {"failures": _failure("bearing")})
    late = _shift(event, healthy, 2.6, 2.95)
    assert late["vibration_mms"] > 3.0
    spread = lambda lo, hi: (_at(event, "COMP-001", lo, hi) - _at(healthy, "COMP-001", lo, hi))["vibration_mms"].std()  # noqa: E731
    assert spread(2.6, 2.95) > 3 * spread(1.2, 1.5)
    assert 0 < late["discharge_temp_f"] < 15
    for untouched in ("suction_pressure_psi", "discharge_pressure_psi", "horsepower", "gas_flow_mcf"):
        assert abs(late[untouched]) < 1e-9, untouched


def test_cooler_fouling_heats_the_discharge_most_on_hot_afternoons(spark, config):
    event, healthy = _twin(spark, config, {"failures": _failure("cooler", onset=0.5, fails=3.5)})
    diff = _at(event, "COMP-001", 2.5, 3.4) - _at(healthy, "COMP-001", 2.5, 3.4)
    local_hour = (diff.index.hour - 6) % 24
    afternoon = diff[(local_hour >= 14) & (local_hour <= 17)]["discharge_temp_f"].mean()
    night = diff[(local_hour >= 2) & (local_hour <= 5)]["discharge_temp_f"].mean()
    assert night > 10 and afternoon > night + 5
    for untouched in ("vibration_mms", "suction_pressure_psi", "discharge_pressure_psi", "horsepower"):
        assert diff[untouched].abs().max() < 1e-9, untouched


def test_piston_ring_wear_cuts_flow_while_power_stays_so_power_per_flow_rises(spark, config):
    event, healthy = _twin(spark, config, {"failures": _failure("piston_rings")})
    e, h = _at(event, "COMP-001", 2.6, 2.95), _at(healthy, "COMP-001", 2.6, 2.95)
    assert (e["gas_flow_mcf"].mean() / h["gas_flow_mcf"].mean()) < 0.85
    assert (e["horsepower"] / e["gas_flow_mcf"]).mean() > 1.15 * (h["horsepower"] / h["gas_flow_mcf"]).mean()
    for untouched in ("suction_pressure_psi", "discharge_pressure_psi"):
        assert (e[untouched] - h[untouched]).abs().max() < 1e-9, untouched


def test_driver_trouble_falls_short_of_demand_with_vibration_bursts(spark, config):
    event, healthy = _twin(spark, config, {"failures": _failure("driver")})
    diff = _at(event, "COMP-001", 2.5, 2.95) - _at(healthy, "COMP-001", 2.5, 2.95)
    assert diff["horsepower"].mean() < -150 and diff["gas_flow_mcf"].mean() < -800
    bursts = diff["vibration_mms"] > 1.0
    assert 0 < bursts.mean() < 0.9  # intermittent, not a level shift
    for untouched in ("suction_pressure_psi", "discharge_pressure_psi", "discharge_temp_f"):
        assert diff[untouched].abs().max() < 1e-9, untouched


def test_a_failure_trips_the_unit_which_stays_down_for_its_repair_then_runs_healthy(spark, config):
    failure = (
        FailureSpec(
            compressor_id="COMP-001", degradation_start_day=1.0, failure_day=2.0, failure_mode="valve", repair_hours=24
        ),
    )
    event, healthy = _twin(spark, config, {"failures": failure})
    down = _at(event, "COMP-001", 2.0, 3.0)
    assert (down["horsepower"] == 0).all() and (down["gas_flow_mcf"] == 0).all()
    settled = _at(event, "COMP-001", 2.1, 3.0)
    assert (settled["discharge_pressure_psi"] - settled["suction_pressure_psi"]).abs().max() < 5  # equalised
    assert (settled["vibration_mms"] < 0.1).all()
    temps = down["discharge_temp_f"]
    assert temps.iloc[0] > temps.iloc[len(temps) // 2] and temps.iloc[-1] < 130  # cools toward ambient
    assert (_shift(event, healthy, 3.0, 4.0).abs() < 1e-9).all()  # repaired: the healthy unit again


# ---------------------------------------------------------------- sensor faults


def _fault(kind, **kw):
    return (SensorFaultSpec(compressor_id="COMP-001", kind=kind, start_day=1.0, **kw),)


def test_a_stuck_sensor_repeats_one_value_for_its_hours(spark, config):
    event, healthy = _twin(spark, config, {"sensor_faults": _fault("stuck", sensor="discharge_temp_f", hours=3)})
    stuck = _at(event, "COMP-001", 1.0, 1.0 + 3 / 24)
    assert stuck["discharge_temp_f"].nunique() == 1 and len(stuck) == 18
    assert (_shift(event, healthy, 1.0, 1.0 + 3 / 24).drop("discharge_temp_f").abs() < 1e-9).all()


def test_a_drifting_sensor_grows_its_offset_slowly(spark, config):
    event, healthy = _twin(spark, config, {"sensor_faults": _fault("drift", sensor="discharge_temp_f", hours=48)})
    offset = (_at(event, "COMP-001", 1.0, 3.0) - _at(healthy, "COMP-001", 1.0, 3.0))["discharge_temp_f"]
    assert abs(offset.iloc[:6].mean()) < 0.5 and 4 < abs(offset.iloc[-6:].mean()) <= 12.1
    assert offset.abs().is_monotonic_increasing or offset.abs().diff().dropna().min() > -0.01


def test_a_dropout_removes_readings_a_spike_moves_one_and_a_wrong_unit_reading_adds_one(spark, config):
    event, healthy = _twin(spark, config, {"sensor_faults": _fault("dropout", hours=2)})
    assert len(healthy) - len(event) == 12 and len(_at(event, "COMP-001", 1.0, 1.0 + 2 / 24)) == 0
    event, healthy = _twin(spark, config, {"sensor_faults": _fault("spike", sensor="vibration_mms")})
    diff = (_at(event, "COMP-001", 0, 4) - _at(healthy, "COMP-001", 0, 4))["vibration_mms"]
    assert (diff.abs() > 1e-9).sum() == 1 and diff.max() > 4
    event, healthy = _twin(spark, config, {"sensor_faults": _fault("wrong_unit", other_unit="COMP-002")})
    extra = event.merge(healthy, how="left", indicator=True).query("_merge == 'left_only'")
    assert len(extra) == 1 and extra.iloc[0]["compressor_id"] == "COMP-002"
    source = healthy[(healthy.compressor_id == "COMP-001") & (healthy.timestamp == extra.iloc[0]["timestamp"])]
    assert (source[SENSORS].to_numpy() == extra[SENSORS].to_numpy()).all()  # COMP-001's values


# ---------------------------------------------------------------- context, determinism, scale


def test_operating_context_moves_the_process_without_any_fault(spark, config):
    quiet = _quiet(config)
    df = _readings(spark, quiet, _plan(quiet, n_compressors=2, failures=(), sensor_faults=(), days=6.0))
    unit = _at(df, "COMP-001", 0, 6)
    local_hour = (unit.index.hour - 6) % 24
    by_hour = unit.groupby(local_hour)["discharge_temp_f"].mean()
    assert by_hour.loc[14:17].mean() > by_hour.loc[2:5].mean() + 3  # day/night via ambient
    flow_steps = unit["gas_flow_mcf"].resample("12h").mean()
    assert flow_steps.max() / flow_steps.min() > 1.1  # load set points step
    healthy = df.agg({"vibration_mms": "max", "discharge_temp_f": "max", "suction_pressure_psi": "min"})
    assert healthy["vibration_mms"] < 4.5 and healthy["discharge_temp_f"] < 330 and healthy["suction_pressure_psi"] > 30


def test_same_seed_same_fleet_on_any_partitioning_other_seed_other_readings(spark, config):
    plan = _plan(config, n_compressors=3, days=1.0)
    a = _readings(spark, config, plan, partitions=1)
    b = _readings(spark, config, plan, partitions=7)
    c = _readings(spark, config, _plan(config, n_compressors=3, days=1.0, seed=7))
    pd.testing.assert_frame_equal(a, b)
    assert not a[SENSORS].equals(c[SENSORS])


def test_one_day_batches_land_the_readings_and_work_orders_of_one_long_batch(spark, config):
    failures = (FailureSpec(compressor_id="COMP-002", degradation_start_day=0.5, failure_day=1.5, repair_hours=20),)
    whole_plan = _plan(config, n_compressors=3, days=3.0, failures=failures)
    whole = _readings(spark, config, whole_plan)
    days = (
        pd.concat(
            [
                _readings(
                    spark,
                    config,
                    _plan(config, n_compressors=3, days=1.0, start=START + timedelta(days=d), failures=failures),
                )
                for d in range(3)
            ]
        )
        .sort_values(["compressor_id", "timestamp"])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(whole, days)

    compressors = _fleet(config, n=3)[1]

    def orders(plan):
        return simulate.maintenance_records(plan, simulate.fleet_events(config, plan, compressors))

    daily: dict[str, dict] = {}
    for d in range(3):
        for wo in orders(_plan(config, n_compressors=3, days=1.0, start=START + timedelta(days=d), failures=failures)):
            daily[wo["work_order_id"]] = wo  # the newest landed version wins, as in silver
    assert daily == {wo["work_order_id"]: wo for wo in orders(whole_plan)}
    failure = next(wo for wo in daily.values() if wo["compressor_id"] == "COMP-002")
    assert failure["event_type"] == "failure" and failure["ended_at"] == START + timedelta(days=1.5, hours=20)
    first_day = orders(_plan(config, n_compressors=3, days=1.0, start=START + timedelta(days=1), failures=failures))
    assert next(wo for wo in first_day if wo["compressor_id"] == "COMP-002")["ended_at"] is None  # still open


def test_a_fleet_year_draws_failures_modes_maintenance_and_faults_at_the_configured_rates(config):
    n = 1000
    plan = _plan(config, n_compressors=n, n_stations=40, days=365.0, failures=(), sensor_faults=())
    events = simulate.fleet_events(config, plan, _fleet(config, n=n, stations=40)[1])
    sim = config.simulation
    degradations = [d for e in events for d in e.degradations if d.onset < plan.end]
    # Degradations cost time (degrading and repair), so slightly fewer than rate x unit-years start.
    assert 0.85 * sim.failure_rate_per_unit_year * n < len(degradations) < 1.05 * sim.failure_rate_per_unit_year * n
    caught = sum(not d.failed for d in degradations) / len(degradations)
    assert abs(caught - sim.caught_by_maintenance_fraction) < 0.04
    modes = Counter(d.mode for d in degradations)
    for mode, share in sim.failure_mode_shares.items():
        assert abs(modes[mode] / len(degradations) - share) < 0.04, mode
    downtimes = Counter(d.kind for e in events for d in e.downtimes if d.start < plan.end)
    assert 3.0 * n < downtimes["preventive_maintenance"] < 4.2 * n
    assert 0.7 * sim.idle_periods_per_unit_year * n < downtimes["idle"] < 1.05 * sim.idle_periods_per_unit_year * n
    faults = [f for e in events for f in e.faults if f.start < plan.end]
    assert 0.85 * sim.sensor_faults_per_unit_year * n < len(faults) < 1.05 * sim.sensor_faults_per_unit_year * n
    durations = [(d.fails_at - d.onset).total_seconds() / 3600 for d in degradations]
    assert min(durations) < 12 and max(durations) > 24 * 14  # hours to weeks


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


def test_failure_must_come_after_onset_and_faults_name_what_they_need():
    with pytest.raises(ValueError, match="failure_day"):
        FailureSpec(compressor_id="COMP-001", degradation_start_day=4, failure_day=2)
    with pytest.raises(ValueError, match="names its sensor"):
        SensorFaultSpec(compressor_id="COMP-001", kind="stuck", start_day=1, hours=2)
    with pytest.raises(ValueError, match="other_unit"):
        SensorFaultSpec(compressor_id="COMP-001", kind="wrong_unit", start_day=1)
