"""The PostgreSQL publisher against a real embedded PostgreSQL."""

from datetime import date, datetime

import pyarrow as pa
import pytest

from altaviz.publish import LATEST_READINGS_COLUMNS, SERVING_TABLES
from altaviz.publish.embedded import start_embedded_postgres, stop_embedded_postgres
from altaviz.publish.postgres import PostgresDatabase


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    home = tmp_path_factory.mktemp("pg-home")
    database = PostgresDatabase(start_embedded_postgres(home))
    database.apply_schema()
    yield database
    database.close()
    stop_embedded_postgres(home)


def _arrow(columns, rows):
    """Rows as the publisher receives them from Spark: an Arrow table, timestamps in UTC."""
    values = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
    arrays = []
    for name, column in zip(columns, values, strict=True):
        if name.endswith("_at") or name == "hour_start":
            column = [datetime.fromisoformat(v.replace("Z", "+00:00")) if v else None for v in column]
            arrays.append(pa.array(column, pa.timestamp("us", tz="UTC")))
        elif name == "install_date":
            arrays.append(pa.array([date.fromisoformat(v) for v in column], pa.date32()))
        else:
            arrays.append(pa.array(column))
    return pa.table(arrays, names=list(columns))


def _upsert(db, name, rows):
    t = SERVING_TABLES[name]
    return db.upsert(t.name, t.columns, t.key, _arrow(t.columns, rows), t.touch_updated_at)


def _alert(value, active=True):
    return (
        "a-1",
        "COMP-001",
        "vibration_mms",
        "threshold",
        "warning",
        "warning" if active else "normal",
        active,
        "2026-01-01T05:00:00.000000Z",
        None,
        None if active else "2026-01-01T09:00:00.000000Z",
        "2026-01-01T08:00:00.000000Z",
        4.5,
        value,
        value,
        12,
    )


def test_schema_applies_twice_and_republishing_identical_rows_changes_nothing(db):
    db.apply_schema()  # idempotent DDL
    assert _upsert(db, "stations", [("STN-001", "Midland", "Permian", "Midland", 31.99, -102.07)]) == 1
    assert _upsert(db, "compressors", [("COMP-001", "STN-001", "Ariel JGK/4", 1480, "2018-05-01")]) == 1
    assert _upsert(db, "stations", [("STN-001", "Midland", "Permian", "Midland", 31.99, -102.07)]) == 0
    assert _upsert(db, "stations", [("STN-001", "Midland Hub", "Permian", "Midland", 31.99, -102.07)]) == 1
    with db._conn.cursor() as cur:
        assert cur.execute("SELECT station_name FROM stations").fetchall() == [("Midland Hub",)]


def test_operator_acknowledgement_survives_a_republish_that_changes_the_alert(db):
    _upsert(db, "alerts", [_alert(5.0)])
    with db._conn.transaction(), db._conn.cursor() as cur:
        cur.execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = 'dana', operator_note = 'crew sent'"
            " WHERE alert_id = 'a-1'"
        )
    assert _upsert(db, "alerts", [_alert(6.2, active=False)]) == 1
    with db._conn.cursor() as cur:
        row = cur.execute(
            "SELECT status, acknowledged_by, operator_note, peak_value, is_active, cleared_at IS NOT NULL FROM alerts"
        ).fetchall()
    assert row == [("acknowledged", "dana", "crew sent", 6.2, False, True)]


def test_bulk_upsert_of_many_rows_has_no_duplicates(db):
    rows = [
        (
            "COMP-001",
            f"2026-01-{1 + h // 24:02d}T{h % 24:02d}:00:00Z",
            6,
            2.0,
            2.1,
            250.0,
            251.0,
            60.0,
            59.0,
            1000.0,
            1001.0,
            940.0,
            1200.0,
            9000.0,
            "normal",
            "normal",
            "normal",
            "normal",
        )
        for h in range(24 * 20)
    ]
    assert _upsert(db, "hourly_readings", rows) == 480
    assert _upsert(db, "hourly_readings", rows) == 0
    with db._conn.cursor() as cur:
        assert cur.execute(
            "SELECT count(*), count(DISTINCT (compressor_id, hour_start)) FROM hourly_readings"
        ).fetchone() == (480, 480)
        assert cur.execute("SELECT health_status FROM v_fleet_health").fetchall() == [("normal",)]


def _hour(compressor, hour, vibration, health="normal"):
    return (
        compressor,
        hour,
        6,
        vibration,
        vibration,
        250.0,
        251.0,
        60.0,
        59.0,
        1000.0,
        1001.0,
        940.0,
        1200.0,
        9000.0,
        health,
        "normal",
        "normal",
        health,
    )


def test_latest_readings_holds_each_units_newest_hour_and_a_refresh_without_news_changes_nothing(db):
    _upsert(db, "compressors", [("COMP-002", "STN-001", "Ajax DPC-360", 1340, "2019-01-01")])
    _upsert(
        db,
        "hourly_readings",
        [_hour("COMP-002", "2026-03-01T00:00:00Z", 2.0), _hour("COMP-002", "2026-03-01T01:00:00Z", 5.0, "warning")],
    )
    assert db.refresh_latest_readings(LATEST_READINGS_COLUMNS) >= 1
    assert db.refresh_latest_readings(LATEST_READINGS_COLUMNS) == 0  # nothing newer: idempotent

    def latest():
        with db._conn.cursor() as cur:
            return cur.execute(
                "SELECT l.compressor_id, l.hour_start = v.hour_start, l.vibration_mean, l.health_status"
                " FROM latest_readings l JOIN v_latest_readings v USING (compressor_id)"
                " WHERE compressor_id = 'COMP-002'"
            ).fetchall()

    assert latest() == [("COMP-002", True, 5.0, "warning")]
    # A newer hour moves it; a corrected value for the same hour (new updated_at) is picked up too.
    _upsert(db, "hourly_readings", [_hour("COMP-002", "2026-03-01T02:00:00Z", 7.5, "critical")])
    assert db.refresh_latest_readings(LATEST_READINGS_COLUMNS) == 1
    assert latest() == [("COMP-002", True, 7.5, "critical")]
    _upsert(db, "hourly_readings", [_hour("COMP-002", "2026-03-01T02:00:00Z", 3.0)])
    assert db.refresh_latest_readings(LATEST_READINGS_COLUMNS) == 1
    assert latest() == [("COMP-002", True, 3.0, "normal")]
    # A unit whose readings are gone loses its latest row.
    hourly = SERVING_TABLES["hourly_readings"]
    db.delete(
        hourly.name, hourly.key, _arrow(hourly.key, [("COMP-002", f"2026-03-01T0{h}:00:00Z") for h in range(3)]), None
    )
    assert db.refresh_latest_readings(LATEST_READINGS_COLUMNS) == 1
    assert latest() == []


def test_deleting_keeps_an_alert_an_operator_acted_on(db):
    _upsert(db, "alerts", [("a-2", *_alert(5.0)[1:]), ("a-3", *_alert(5.0)[1:])])
    with db._conn.transaction(), db._conn.cursor() as cur:
        cur.execute("INSERT INTO alert_events (alert_id, action, actor) VALUES ('a-2', 'acknowledge', 'dana')")
    t = SERVING_TABLES["alerts"]
    deleted = db.delete(t.name, t.key, pa.table({"alert_id": ["a-2", "a-3"]}), t.referenced_by)
    assert deleted == 1
    with db._conn.cursor() as cur:
        assert cur.execute("SELECT alert_id FROM alerts WHERE alert_id IN ('a-2', 'a-3')").fetchall() == [("a-2",)]


def test_watermarks_move_with_the_transaction_or_not_at_all(db):
    assert db.watermark("gold_hourly_readings") is None
    with db.transaction():
        db.set_watermark("gold_hourly_readings", "table-1", 3)
    assert db.watermark("gold_hourly_readings") == ("table-1", 3)
    with pytest.raises(RuntimeError, match="publish failed"), db.transaction():
        db.set_watermark("gold_hourly_readings", "table-1", 9)
        _upsert(db, "stations", [("STN-009", "Rolled Back", "Permian", "Midland", 31.0, -102.0)])
        raise RuntimeError("publish failed")
    assert db.watermark("gold_hourly_readings") == ("table-1", 3)
    with db._conn.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM stations WHERE station_id = 'STN-009'").fetchone() == (0,)


def test_text_with_commas_quotes_and_empty_strings_survives_the_copy(db):
    rows = [("STN-100", 'Hub "North", 2', "", "Midland", 31.5, -102.5)]
    assert _upsert(db, "stations", rows) == 1
    with db._conn.cursor() as cur:
        assert cur.execute("SELECT station_name, basin FROM stations WHERE station_id = 'STN-100'").fetchone() == (
            'Hub "North", 2',
            "",
        )


def test_in_fabric_without_a_serving_target_publishing_fails_with_what_to_set(monkeypatch, tmp_path):
    from altaviz import runtime
    from altaviz.publish import open_serving_database

    monkeypatch.setattr(runtime, "in_fabric", lambda: True)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_TYPE", raising=False)
    monkeypatch.setenv("ALTAVIZ_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="serving_target=azure_sql"):
        with open_serving_database(""):
            pass
    assert not (tmp_path / "pgdata").exists()  # no embedded server was started
