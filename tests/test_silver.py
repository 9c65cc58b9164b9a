from datetime import UTC, datetime, timedelta

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from altaviz import silver
from altaviz.schemas import (
    BRONZE_SENSOR_READINGS,
    RAW_SENSOR_READINGS,
    SILVER_QUARANTINE_READINGS,
    SILVER_SENSOR_READINGS,
)

from .conftest import ts

NOW = datetime(2026, 1, 2, tzinfo=UTC)
GOOD = dict(vib=2.5, temp=250.0, suc=60.0, dis=1000.0, hp=1200.0, flow=9000.0)


def _bronze(spark, rows):
    """rows: (record_id, unit, when, overrides) → bronze-shaped frame. Sensors not overridden read
    their GOOD value plus a small wobble by time (a live transmitter never repeats itself exactly,
    which rule stuck_sensor relies on); copies at one time read the same."""
    out = []
    for rid, unit, when, over in rows:
        k = 0 if when is None else (ts(when).hour * 6 + ts(when).minute // 10) % 7
        v = {**{name: value + 0.01 * k for name, value in GOOD.items()}, **over}
        out.append(
            (
                unit,
                when if when is None else ts(when),
                v["vib"],
                v["temp"],
                v["suc"],
                v["dis"],
                v["hp"],
                v["flow"],
                v.get("unparsed"),
                rid,
                "file-1",
                datetime(2026, 1, 2, tzinfo=UTC) + timedelta(seconds=int(rid[1:])),
                "run-b",
            )
        )
    return spark.createDataFrame(out, BRONZE_SENSOR_READINGS)


def _known(spark, *units):
    return spark.createDataFrame([(u,) for u in units], "compressor_id string")


HISTORY = StructType([*RAW_SENSOR_READINGS.fields, StructField("_record_id", StringType())])


def _judge(spark, config, df, history=None):
    """The job's own chain: silver.judge_readings."""
    history = history if history is not None else spark.createDataFrame([], HISTORY)
    return silver.judge_readings(
        df,
        _known(spark, "COMP-001", "COMP-002"),
        history,
        config.validation,
        NOW,
        config.windows.reading_interval_minutes,
    )


def _rules(df):
    """record id → failed rules, or "pending" for a reading that waits for its next one."""
    return {r["_record_id"]: ("pending" if r["_is_pending"] else r["failed_rules"]) for r in df.collect()}


def test_each_row_rule_names_the_failing_rows(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {}),
        ("r2", "COMP-001", "2026-01-01 00:10", {"vib": None}),
        ("r3", "COMP-009", "2026-01-01 00:20", {}),
        ("r4", "COMP-001", "2026-01-01 00:30", {"suc": -5.0}),
        ("r5", "COMP-001", "2026-01-03 00:00", {}),
        ("r6", "COMP-002", "2026-01-01 00:40", {"suc": 0.0}),  # exactly at the range limit: valid
        ("r7", None, "2026-01-01 00:50", {"dis": 5000.0}),
        ("r8", "COMP-001", "2026-01-02 00:04", {}),  # within the 5-minute clock tolerance
    ]
    judged = _rules(_judge(spark, config, _bronze(spark, rows)))
    assert judged == {
        "r1": [],
        "r2": ["missing_value"],
        "r3": ["unknown_compressor"],
        "r4": ["out_of_range"],
        "r5": ["future_timestamp"],
        "r6": [],  # no next reading, but the fleet's data has moved on by more than 30 minutes
        "r7": ["missing_value", "out_of_range"],
        "r8": "pending",  # the newest valid reading waits for its successor
    }


def _judged_comp002_at_midnight(spark):
    """History: COMP-002's 00:00 reading, already in silver, with GOOD values (no wobble at 00:00)."""
    g = GOOD
    return spark.createDataFrame(
        [("COMP-002", ts("2026-01-01 00:00"), g["vib"], g["temp"], g["suc"], g["dis"], g["hp"], g["flow"], "h1")],
        HISTORY,
    )


def test_duplicates_keep_the_first_good_copy_and_flag_the_rest(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {"vib": None}),  # broken copy: must not win the key
        ("r2", "COMP-001", "2026-01-01 00:00", {}),
        ("r3", "COMP-001", "2026-01-01 00:00", {}),
        ("r4", "COMP-002", "2026-01-01 00:00", {}),  # already judged
        ("r5", "COMP-001", "2026-01-01 00:10", {}),
    ]
    judged = _rules(_judge(spark, config, _bronze(spark, rows), history=_judged_comp002_at_midnight(spark)))
    assert judged == {
        "r1": ["missing_value"],
        "r2": [],
        "r3": ["duplicate_reading"],
        "r4": ["duplicate_reading"],
        "r5": "pending",
    }


def test_two_different_readings_of_one_unit_at_one_time_are_both_quarantined(spark, config):
    # A gateway tagging another unit's reading with COMP-001's id: neither copy can be trusted; a
    # new reading that differs from one already in silver is quarantined, and the silver one stays.
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {}),
        ("r2", "COMP-001", "2026-01-01 00:00", {"flow": 11500.0, "hp": 900.0}),
        ("r3", "COMP-002", "2026-01-01 00:00", {"temp": 231.0}),  # conflicts with what silver holds
        ("r4", "COMP-001", "2026-01-01 00:10", {}),
        ("r5", "COMP-001", "2026-01-01 00:20", {}),
    ]
    judged = _rules(_judge(spark, config, _bronze(spark, rows), history=_judged_comp002_at_midnight(spark)))
    assert judged == {
        "r1": ["conflicting_duplicate"],
        "r2": ["conflicting_duplicate"],
        "r3": ["conflicting_duplicate"],
        "r4": [],
        "r5": "pending",
    }


def _series(spark, values, start="2026-01-01 00:00", unit="COMP-001", first_id=0):
    """Bronze readings of one unit every 10 minutes; ``values`` are vibrations (mm/s)."""
    t0 = ts(start)
    rows = [
        (f"r{first_id + i}", unit, (t0 + timedelta(minutes=10 * i)).strftime("%Y-%m-%d %H:%M"), {"vib": v})
        for i, v in enumerate(values)
    ]
    return _bronze(spark, rows)


def _noisy(n, base=2.5):
    return [base + (0.05 if i % 2 else -0.05) for i in range(n)]


def test_a_spike_departs_from_its_mean_and_both_neighbours(spark, config):
    values = _noisy(60)
    values[40] = 9.0
    judged = _rules(_judge(spark, config, _series(spark, values)))
    assert judged["r40"] == ["outlier_4sigma"]
    assert [k for k, v in judged.items() if v and v != "pending"] == ["r40"]
    assert judged["r59"] == "pending"


def test_steps_and_ramps_are_not_spikes(spark, config):
    step = _noisy(40) + [0.04 + 0.001 * (i % 3) for i in range(20)]  # a trip: vibration falls to the noise floor
    ramp = [2.5 + 0.05 * i for i in range(144)]  # 2.5 → 9.7 mm/s over a day
    for values in (step, ramp):
        judged = _rules(_judge(spark, config, _series(spark, values)))
        assert not [k for k, v in judged.items() if v and v != "pending"], judged


def test_a_stuck_sensor_is_flagged_from_its_sixth_equal_reading_on_and_zero_is_exempt(spark, config):
    # Vibration repeats 2.777 exactly (a frozen transmitter); flow reads 0 throughout, as a stopped
    # unit's does, and is no stuck sensor.
    n = config.validation.stuck_readings
    values = [*_noisy(10), *([2.777] * (n + 2)), *_noisy(4)]
    rows = [
        (
            f"r{i}",
            "COMP-001",
            (ts("2026-01-01 00:00") + timedelta(minutes=10 * i)).strftime("%Y-%m-%d %H:%M"),
            {
                "vib": v,
                "temp": 250.0 + (i % 3),
                "suc": 60.0 + (i % 2),
                "dis": 1000.0 + i,
                "hp": 1200.0 - i,
                "flow": 0.0,
            },
        )
        for i, v in enumerate(values)
    ]
    judged = _rules(_judge(spark, config, _bronze(spark, rows)))
    stuck = sorted(int(r[1:]) for r, rules in judged.items() if rules != "pending" and "stuck_sensor" in rules)
    # The run starts at r10; its n-th reading (r10 + n - 1) is the first that can be called stuck.
    assert stuck == list(range(10 + n - 1, 10 + n + 2))
    assert all(rules in ([], "pending") for r, rules in judged.items() if int(r[1:]) not in stuck)


def test_gaps_are_counted_as_missing_readings(spark, config):
    times = [0, 10, 20, 60, 70, 80, 200, 210]  # 3 missing after 00:20, 11 after 01:20
    rows = [
        (f"r{i}", "COMP-001", (ts("2026-01-01 00:00") + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M"), {})
        for i, m in enumerate(times)
    ]
    judged = _judge(spark, config, _bronze(spark, rows))
    summary = judged.transform(silver.to_judgement_summary).first()
    assert summary[silver.GAP_COUNT] == 3 + 11


def test_too_few_readings_never_make_a_spike(spark, config):
    values = _noisy(10)
    values[5] = 9.0
    assert _rules(_judge(spark, config, _series(spark, values)))["r5"] == []


def test_a_neighbour_further_away_than_the_gap_does_not_count(spark, config):
    values = _noisy(40) + [9.0]
    gap_then_back = _series(spark, values).unionByName(_series(spark, [2.5], start="2026-01-01 07:30", first_id=50))
    judged = _rules(_judge(spark, config, gap_then_back))
    assert judged["r40"] == []  # its next reading came 50 minutes later: not a neighbour


def test_a_reading_is_judged_the_same_in_one_batch_or_across_two(spark, config):
    values = _noisy(60)
    values[39] = 9.0  # the last reading of the first batch
    whole = _rules(_judge(spark, config, _series(spark, values)))
    first = _rules(_judge(spark, config, _series(spark, values[:40])))
    assert first["r39"] == "pending"
    # The second batch: the pending reading again, the new ones, and the first batch's judged readings.
    judged_history = _series(spark, values[:39]).select(*HISTORY.fieldNames())
    second_batch = (
        _series(spark, values[:40])
        .filter(F.col("_record_id") == "r39")
        .unionByName(_series(spark, values[40:], start="2026-01-01 06:40", first_id=40))
    )
    second = _rules(_judge(spark, config, second_batch, history=judged_history))
    assert {**{k: v for k, v in first.items() if v != "pending"}, **second} == whole
    assert whole["r39"] == ["outlier_4sigma"]


def test_valid_quarantined_and_pending_rows_account_for_every_row(spark, config):
    rows = [
        ("r1", "COMP-001", "2026-01-01 00:00", {}),
        ("r2", "COMP-001", "2026-01-01 00:00", {}),
        ("r3", "COMP-009", "2026-01-01 00:10", {"vib": None}),
        ("r4", "COMP-002", "2026-01-01 00:40", {}),
    ]
    candidates = _bronze(spark, rows)
    judged = _judge(spark, config, candidates).cache()
    valid = silver.filter_valid_readings(judged, "run-s")
    bad = silver.to_quarantined_readings(candidates, judged.filter(F.size("failed_rules") > 0), "run-s")
    pending = silver.to_pending_readings(candidates, judged.filter("_is_pending"))
    assert valid.columns == SILVER_SENSOR_READINGS.fieldNames()
    assert pending.columns == BRONZE_SENSOR_READINGS.fieldNames()
    assert bad.columns == SILVER_QUARANTINE_READINGS.fieldNames()
    assert {r["_source_file"] for r in bad.collect()} == {"file-1"}  # the whole lineage, for chasing a delivery
    # r1 has no next reading, but the fleet's newest (r4) is 40 minutes later: judged. r4 waits.
    assert sorted(r["_record_id"] for r in valid.collect()) == ["r1"]
    assert sorted(r["_record_id"] for r in bad.collect()) == ["r2", "r3"]
    assert [r["_record_id"] for r in pending.collect()] == ["r4"]
    assert valid.first()["reading_date"].isoformat() == "2026-01-01"
    summary = judged.transform(silver.to_judgement_summary).first().asDict()
    assert summary == {
        "judged": 4,
        "accepted": 1,
        "quarantined": 2,
        "pending": 1,
        "first_accepted": ts("2026-01-01 00:00").replace(tzinfo=None),
        "last_accepted": ts("2026-01-01 00:00").replace(tzinfo=None),
        "missing_value": 1,
        "out_of_range": 0,
        "unparseable_value": 0,
        "unknown_compressor": 1,
        "future_timestamp": 0,
        "duplicate_reading": 1,
        "conflicting_duplicate": 0,
        "outlier_4sigma": 0,
        "stuck_sensor": 0,
        "reading_gap": 0,
    }


def test_latest_registry_takes_the_newest_ingested_version(spark):
    df = spark.createDataFrame(
        [
            ("COMP-001", "STN-001", ts("2026-01-01 00:00"), "a"),
            ("COMP-001", "STN-002", ts("2026-01-02 00:00"), "b"),
            (None, "STN-003", ts("2026-01-03 00:00"), "c"),
        ],
        "compressor_id string, station_id string, _ingested_at timestamp, _record_id string",
    )
    latest = silver.to_latest_registry(df, "compressor_id", ["compressor_id", "station_id"]).collect()
    assert [tuple(r) for r in latest] == [("COMP-001", "STN-002")]


def test_a_replayed_row_that_was_already_judged_is_left_out(spark, config):
    """A batch re-run after a crash: its rows already in silver are neither new nor duplicates."""
    values = _noisy(10)
    first = _series(spark, values)
    history = first.filter(F.col("_record_id") != "r9").select(*HISTORY.fieldNames())
    judged = _rules(_judge(spark, config, first, history=history))
    assert judged == {"r9": "pending"}
