"""The PostgreSQL publisher against a real embedded PostgreSQL."""

import pytest
from altaviz.publish import SERVING_TABLES
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


def _upsert(db, name, rows):
    t = SERVING_TABLES[name]
    return db.upsert(t.name, t.columns, t.key, rows, t.touch_updated_at)


def _alert(value, active=True):
    return (
        "a-1",
        "COMP-001",
        "vibration_mms",
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
