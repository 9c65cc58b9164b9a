"""The Azure SQL publisher's connection handling, batching and transaction logic.

No Azure SQL server can run here, so the database is a recording fake standing in for a pyodbc
connection: these tests hold the order of statements, the batching, fast_executemany, commit and
rollback. What the statements do on a real server is not tested here (see the schema tests for
what is checked about the SQL itself).
"""

from __future__ import annotations

import logging
import re
import struct
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from altaviz import runtime
from altaviz.publish import SERVING_TABLES, azure_sql
from altaviz.publish.azure_sql import AzureSqlDatabase, AzureSqlSettings

SETTINGS = AzureSqlSettings(
    server="altaviz-test.database.windows.net", database="altaviz", auth="default", batch_size=3
)
OFFSET_COLUMNS = {"opened_at", "escalated_at", "cleared_at", "last_reading_at", "hour_start"}
TSQL_FILE = Path(__file__).resolve().parents[1] / "sql/azure_sql/001_schema.sql"


def declared_tsql_columns() -> dict[str, dict[str, tuple[str, int | None]]]:
    """Per table, each column's (DATA_TYPE, CHARACTER_MAXIMUM_LENGTH) as INFORMATION_SCHEMA would
    answer for the repository's T-SQL schema (the source of truth for the stage's bindings)."""
    tables: dict[str, dict[str, tuple[str, int | None]]] = {}
    for batch in azure_sql.split_batches(TSQL_FILE.read_text(encoding="utf-8")):
        for statement in sqlglot.parse(batch, read="tsql"):
            for create in statement.find_all(exp.Create) if statement else ():
                if create.kind != "TABLE":
                    continue
                columns = {}
                for col in create.this.expressions:
                    if not isinstance(col, exp.ColumnDef):
                        continue
                    kind = col.args["kind"]
                    name = kind.this.name.lower()
                    size = kind.expressions[0].name if kind.expressions else None
                    length = (-1 if size.upper() == "MAX" else int(size)) if "char" in name else None
                    columns[col.name] = ({"double": "float", "timestamptz": "datetimeoffset"}.get(name, name), length)
                tables[create.this.this.name] = columns
    return tables


DECLARED = declared_tsql_columns()


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.fast_executemany = False
        self.input_sizes = None
        self.rowcount = -1
        self._rows: list = []

    def execute(self, sql: str, *params):
        self.conn.log.append(("execute", sql, params))
        if self.conn.fail_on and self.conn.fail_on in sql:
            raise RuntimeError("simulated server error")
        if sql.startswith("SELECT COLUMN_NAME"):
            table = params[0]
            self._rows = [(c, kind, length) for c, (kind, length) in self.conn.columns.get(table, {}).items()]
        elif sql.startswith("MERGE"):
            self.rowcount = self.conn.merge_rowcount
        return self

    def executemany(self, sql: str, rows):
        rows = list(rows)
        self.conn.log.append(("executemany", sql, rows, self.fast_executemany))
        self.conn.bound.append((sql, self.input_sizes))

    def setinputsizes(self, sizes):
        self.input_sizes = sizes
        self.conn.size_calls.append(sizes)

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self.conn.fetchone_result

    def close(self):
        self.conn.log.append(("close_cursor",))


class FakeConnection:
    def __init__(self, columns=None, merge_rowcount=0, fail_on=None):
        self.columns = columns if columns is not None else DECLARED
        self.merge_rowcount = merge_rowcount
        self.fail_on = fail_on
        self.fetchone_result = None
        self.log: list = []
        self.bound: list = []  # (insert statement, input sizes bound when it ran)
        self.size_calls: list = []

    def cursor(self):
        return FakeCursor(self)

    def commit(self):
        self.log.append(("commit",))

    def rollback(self):
        self.log.append(("rollback",))

    def close(self):
        self.log.append(("close",))


def kinds(log):
    return [entry[0] for entry in log]


def arrow(columns, rows):
    return pa.table(list(zip(*rows, strict=True)) if rows else [[] for _ in columns], names=list(columns))


def test_upsert_stages_in_batches_then_merges_once_in_one_transaction():
    conn = FakeConnection(merge_rowcount=7)
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["alerts"]
    opened = datetime(2026, 1, 1, 5, tzinfo=UTC)
    rows = pa.table(
        {
            c: pa.array([f"A{i}" for i in range(7)])
            if c == "alert_id"
            else pa.array([opened] * 7, pa.timestamp("us", tz="UTC"))
            if c == "opened_at"
            else pa.nulls(7)
            for c in t.columns
        }
    )
    changed = db.upsert(t.name, t.columns, t.key, rows, t.touch_updated_at)
    assert changed == 7
    assert kinds(conn.log) == [
        "execute",
        "execute",
        "execute",
        "executemany",
        "executemany",
        "executemany",
        "execute",
        "execute",
        "commit",
        "close_cursor",
    ]
    _, columns_sql, params = conn.log[0]
    assert params == ("alerts",)
    assert conn.log[1][1] == azure_sql.drop_stage_sql("alerts")
    stage_sql = conn.log[2][1]
    assert stage_sql.startswith("SELECT TOP (0)") and "INTO [#stage_alerts]" in stage_sql
    assert "CAST(NULL AS NVARCHAR(40)) AS [opened_at]" in stage_sql and "t.[alert_id]" in stage_sql
    batches = [entry for entry in conn.log if entry[0] == "executemany"]
    assert [len(b[2]) for b in batches] == [3, 3, 1]
    assert all(b[3] is True for b in batches), "fast_executemany must be on"
    assert all(b[1] == azure_sql.insert_stage_sql("alerts", t.columns) for b in batches)
    assert [r[0] for b in batches for r in b[2]] == [f"A{i}" for i in range(7)]
    opened_at = t.columns.index("opened_at")
    assert {r[opened_at] for b in batches for r in b[2]} == {"2026-01-01T05:00:00.000000+00:00"}
    merge = conn.log[6][1]
    offsets = {c for c in t.columns if c in OFFSET_COLUMNS}
    assert merge == azure_sql.merge_sql("alerts", t.columns, t.key, True, offsets)
    assert conn.log[7][1] == azure_sql.drop_stage_sql("alerts")


def _one_row(table) -> pa.Table:
    return pa.table({c: pa.array(["x"]) for c in table.columns})


@pytest.mark.parametrize("name", sorted(SERVING_TABLES))
def test_every_staged_column_is_bound_with_its_declared_type_and_size(name):
    """The driver cannot describe #temp columns (pyodbc would bind VARCHAR(255)): every parameter of
    every stage insert is bound from the T-SQL schema's declaration, strings with their real length."""
    conn = FakeConnection()
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES[name]
    db.upsert(t.name, t.columns, t.key, _one_row(t), t.touch_updated_at)
    [(sql, sizes)] = conn.bound
    assert sql == azure_sql.insert_stage_sql(t.name, t.columns)
    assert len(sizes) == len(t.columns)
    for column, (sql_type, size, digits) in zip(t.columns, sizes, strict=True):
        kind, length = DECLARED[t.name][column]
        if kind == "datetimeoffset":  # staged as ISO text, cast by the MERGE
            assert (sql_type, size) == (azure_sql.SQL_WVARCHAR, 40), column
        elif kind == "nvarchar":
            assert (sql_type, size) == (azure_sql.SQL_WVARCHAR, length), column
        else:
            assert (sql_type, size, digits) == azure_sql.FIXED_INPUT_SIZES[kind], column
    # Cleared after staging, so the MERGE and watermark statements on the same cursor bind their own.
    assert conn.size_calls[-1] is None


def test_long_strings_get_their_declared_length_not_255():
    conn = FakeConnection()
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["pipeline_run_steps"]
    db.upsert(t.name, t.columns, t.key, _one_row(t), t.touch_updated_at)
    sizes = dict(zip(t.columns, conn.bound[0][1], strict=True))
    assert sizes["detail"] == (azure_sql.SQL_WVARCHAR, 4000, 0)
    assert sizes["rows_in"] == (azure_sql.SQL_BIGINT, 0, 0)
    assert sizes["duration_s"] == (azure_sql.SQL_DOUBLE, 0, 0)
    # The operator's note (never published, but the widest alert column) would be bound as declared too.
    note = azure_sql.input_size("operator_note", azure_sql.ColumnType("nvarchar", 2000), ())
    assert note == (azure_sql.SQL_WVARCHAR, 2000, 0)
    assert azure_sql.input_size("x", azure_sql.ColumnType("nvarchar", -1), ()) == (azure_sql.SQL_WLONGVARCHAR, 0, 0)


def test_a_column_type_without_a_binding_is_refused():
    with pytest.raises(ValueError, match="no ODBC binding"):
        azure_sql.input_size("x", azure_sql.ColumnType("geography"), ())
    with pytest.raises(ValueError, match="not declared"):
        azure_sql.input_sizes(["x"], {}, ())


def test_republishing_identical_rows_reports_zero_changes():
    conn = FakeConnection(merge_rowcount=0)
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["stations"]
    assert db.upsert(t.name, t.columns, t.key, arrow(t.columns, [("S1", "n", "b", "c", 1.0, 2.0)]), True) == 0


def test_column_types_are_read_once_per_table():
    conn = FakeConnection()
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["pipeline_runs"]
    for _ in range(2):
        db.upsert(t.name, t.columns, t.key, arrow(t.columns, []), True)
    assert sum(1 for e in conn.log if e[0] == "execute" and e[1].startswith("SELECT COLUMN_NAME")) == 1


def test_a_failing_merge_rolls_back_and_propagates():
    conn = FakeConnection(fail_on="MERGE")
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["stations"]
    with pytest.raises(RuntimeError, match="simulated server error"):
        db.upsert(t.name, t.columns, t.key, arrow(t.columns, [("S1", "n", "b", "c", 1.0, 2.0)]), True)
    assert "rollback" in kinds(conn.log) and "commit" not in kinds(conn.log)
    assert kinds(conn.log)[-1] == "close_cursor"


def test_a_missing_table_is_a_clear_error():
    db = AzureSqlDatabase(SETTINGS, connection=FakeConnection(columns={}))
    with pytest.raises(RuntimeError, match=r"table dbo\.stations does not exist"):
        db.upsert("stations", ["station_id"], ["station_id"], arrow(["station_id"], []), True)


def test_a_publish_is_one_transaction_across_tables_and_its_watermark():
    conn = FakeConnection(merge_rowcount=1)
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    stations, runs = SERVING_TABLES["stations"], SERVING_TABLES["pipeline_runs"]
    with db.transaction():
        db.upsert(
            stations.name,
            stations.columns,
            stations.key,
            arrow(stations.columns, [("S1", "n", "b", "c", 1.0, 2.0)]),
            True,
        )
        db.upsert(runs.name, runs.columns, runs.key, arrow(runs.columns, [("r", "ok", None, None, 1.0)]), True)
        db.set_watermark("silver_stations", "id-1", 4)
    assert kinds(conn.log).count("commit") == 1 and kinds(conn.log)[-2:] == ["commit", "close_cursor"]
    assert conn.log[-3][1] == azure_sql.set_watermark_sql() and conn.log[-3][2] == ("silver_stations", "id-1", 4)


def test_a_failure_inside_a_publish_rolls_everything_back():
    conn = FakeConnection(fail_on="dbo.publish_watermarks WITH")
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["stations"]
    with pytest.raises(RuntimeError, match="simulated"), db.transaction():
        db.upsert(t.name, t.columns, t.key, arrow(t.columns, [("S1", "n", "b", "c", 1.0, 2.0)]), True)
        db.set_watermark("silver_stations", "id-1", 4)
    assert "commit" not in kinds(conn.log) and kinds(conn.log).count("rollback") == 1


def test_deletes_stage_the_keys_and_spare_referenced_rows():
    conn = FakeConnection()
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    t = SERVING_TABLES["alerts"]
    db.delete(t.name, t.key, pa.table({"alert_id": ["a", "b"]}), t.referenced_by)
    delete = [e[1] for e in conn.log if e[0] == "execute" and e[1].startswith("DELETE")]
    assert delete == [azure_sql.delete_sql("alerts", ["alert_id"], "alert_events")]
    assert "NOT EXISTS (SELECT 1 FROM dbo.[alert_events]" in delete[0]
    assert [r for e in conn.log if e[0] == "executemany" for r in e[2]] == [("a",), ("b",)]


def test_watermark_reads_the_stored_version():
    conn = FakeConnection()
    conn.fetchone_result = ("id-7", 12)
    assert AzureSqlDatabase(SETTINGS, connection=conn).watermark("gold_alert_episodes") == ("id-7", 12)


def test_apply_schema_sends_each_go_batch_then_commits():
    conn = FakeConnection()
    db = AzureSqlDatabase(SETTINGS, connection=conn)
    db.apply_schema()
    executed = [e[1] for e in conn.log if e[0] == "execute"]
    assert executed == azure_sql.split_batches(azure_sql.ddl_text())
    assert len(executed) == 4
    assert "CREATE TABLE dbo.stations" in executed[0]
    views = [re.findall(r"^CREATE OR ALTER VIEW (\S+)", b, re.MULTILINE) for b in executed]
    assert views == [[], ["dbo.v_latest_readings"], ["dbo.v_active_alerts"], ["dbo.v_fleet_health"]]
    assert kinds(conn.log)[-2:] == ["commit", "close_cursor"]


def test_ddl_shipped_in_the_wheel_is_the_repository_file():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    assert azure_sql.ddl_text() == (repo / "sql/azure_sql/001_schema.sql").read_text(encoding="utf-8")


def test_split_batches_drops_comment_only_batches():
    assert azure_sql.split_batches("SELECT 1;\nGO\n-- only a comment\nGO\nSELECT 2;\ngo\n") == [
        "SELECT 1;",
        "SELECT 2;",
    ]


def test_batched_streams_without_materialising():
    def rows():
        yield from ((i,) for i in range(5))

    assert list(azure_sql.batched(rows(), 2)) == [[(0,), (1,)], [(2,), (3,)], [(4,)]]
    with pytest.raises(ValueError):
        list(azure_sql.batched([], 0))


# ---------------------------------------------------------------- settings, token, connection


def test_settings_from_environment_and_notebook_overrides(monkeypatch):
    monkeypatch.setenv("AZURE_SQL_SERVER", "env-server.database.windows.net")
    monkeypatch.setenv("AZURE_SQL_DATABASE", "envdb")
    monkeypatch.setenv("AZURE_SQL_BATCH_SIZE", "500")
    monkeypatch.delenv("AZURE_SQL_AUTH", raising=False)
    s = AzureSqlSettings.from_environment()
    assert (s.server, s.database, s.batch_size, s.auth) == (
        "env-server.database.windows.net",
        "envdb",
        500,
        "default",
    )
    s = AzureSqlSettings.from_environment(
        {"AZURE_SQL_SERVER": "param-server.database.windows.net", "AZURE_SQL_DATABASE": ""}
    )
    assert (s.server, s.database) == (
        "param-server.database.windows.net",
        "envdb",
    )  # empty parameter: env wins
    assert s.connection_string() == (
        "Driver={ODBC Driver 18 for SQL Server};Server=tcp:param-server.database.windows.net,1433;"
        "Database=envdb;Encrypt=yes;TrustServerCertificate=no;Connection Timeout=30"
    )


def test_notebook_parameters_stand_in_for_every_setting_and_unknown_ones_are_refused(monkeypatch):
    for name in azure_sql.NOTEBOOK_PARAMETERS.values():
        monkeypatch.delenv(name, raising=False)
    overrides = azure_sql.overrides_from_parameters(
        {
            "sql_server": "nb.database.windows.net",
            "sql_database": "nbdb",
            "sql_auth": "service_principal",
            "sql_driver": "ODBC Driver 17 for SQL Server",
            "tenant_id": "tenant",
            "client_id": "app",
            "key_vault_url": "https://kv.vault.azure.net/",
            "sql_client_secret_name": "sql-secret",
        }
    )
    settings = AzureSqlSettings.from_environment(overrides)
    assert (settings.server, settings.database, settings.auth, settings.driver) == (
        "nb.database.windows.net",
        "nbdb",
        "service_principal",
        "ODBC Driver 17 for SQL Server",
    )
    assert (settings.tenant_id, settings.client_id, settings.key_vault_url, settings.client_secret_name) == (
        "tenant",
        "app",
        "https://kv.vault.azure.net/",
        "sql-secret",
    )
    with pytest.raises(ValueError, match="unknown Azure SQL parameters"):
        azure_sql.overrides_from_parameters({"sql_password": "x"})


def test_settings_fail_fast_without_server_or_with_unknown_auth(monkeypatch):
    for name in ("AZURE_SQL_SERVER", "AZURE_SQL_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="AZURE_SQL_SERVER"):
        AzureSqlSettings.from_environment()
    with pytest.raises(ValueError, match="AZURE_SQL_AUTH"):
        AzureSqlSettings.from_environment(
            {"AZURE_SQL_SERVER": "s", "AZURE_SQL_DATABASE": "d", "AZURE_SQL_AUTH": "password"}
        )


def test_auth_defaults_to_the_notebook_identity_in_fabric(monkeypatch):
    monkeypatch.setattr(runtime, "in_fabric", lambda: True)
    s = AzureSqlSettings.from_environment({"AZURE_SQL_SERVER": "s", "AZURE_SQL_DATABASE": "d"})
    assert s.auth == "identity"


def test_token_struct_is_length_prefixed_utf16le():
    packed = azure_sql.token_struct("abc")
    (length,) = struct.unpack("<I", packed[:4])
    assert length == 6 and packed[4:] == "abc".encode("utf-16-le")


def test_identity_and_default_auth_take_the_token_from_the_runtime(monkeypatch):
    seen = []
    monkeypatch.setattr(runtime, "get_token", lambda audience: seen.append(audience) or "tok")
    assert SETTINGS.access_token() == "tok"
    assert seen == ["https://database.windows.net/"]


def test_service_principal_needs_its_secret(monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET", raising=False)
    s = AzureSqlSettings(server="s", database="d", auth="service_principal", tenant_id="t", client_id="c")
    with pytest.raises(ValueError, match="AZURE_CLIENT_SECRET"):
        s.access_token()


def test_service_principal_reads_its_secret_through_the_runtime(monkeypatch):
    calls = []

    def fake_secret(name, vault=None, env_var=None):
        calls.append((name, vault, env_var))
        return "shh"

    class FakeCredential:
        def __init__(self, tenant, client, secret):
            calls.append((tenant, client, secret))

        def get_token(self, scope):
            calls.append(scope)
            return type("T", (), {"token": "sp-token"})()

    import azure.identity

    monkeypatch.setattr(runtime, "get_secret", fake_secret)
    monkeypatch.setattr(azure.identity, "ClientSecretCredential", FakeCredential)
    s = AzureSqlSettings(
        server="s",
        database="d",
        auth="service_principal",
        tenant_id="t",
        client_id="c",
        key_vault_url="https://kv.vault.azure.net/",
    )
    assert s.access_token() == "sp-token"
    assert calls == [
        ("altaviz-sql-client-secret", "https://kv.vault.azure.net/", "AZURE_CLIENT_SECRET"),
        ("t", "c", "shh"),
        "https://database.windows.net/.default",
    ]


def test_connect_explains_a_missing_odbc_stack(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyodbc(name, *args, **kwargs):
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyodbc)
    with pytest.raises(RuntimeError, match="ODBC Driver 18"):
        azure_sql.connect(SETTINGS)


@pytest.mark.parametrize("kind", ["azure_sql", "fabric_sql"])
def test_open_serving_database_routes_tsql_targets_with_notebook_settings(monkeypatch, kind):
    from altaviz import publish

    made = []

    class Recorder(AzureSqlDatabase):
        @classmethod
        def from_environment(cls, overrides=None, kind="azure_sql"):
            made.append((dict(overrides or {}), kind))
            settings = AzureSqlSettings(server="s", database="d", auth="default", kind=kind)
            return cls(settings, connection=FakeConnection())

    monkeypatch.setattr(azure_sql, "AzureSqlDatabase", Recorder)
    with publish.open_serving_database(kind, {"AZURE_SQL_SERVER": "srv"}) as db:
        assert db.describe() == f"{kind}://s/d (auth=default)"
    assert made == [({"AZURE_SQL_SERVER": "srv"}, kind)]


def test_fabric_sql_database_is_the_same_publisher_with_entra_sign_in(monkeypatch):
    monkeypatch.setattr(runtime, "in_fabric", lambda: True)
    server = "abcd1234-5678.database.fabric.microsoft.com"
    s = AzureSqlSettings.from_environment(
        {"AZURE_SQL_SERVER": server, "AZURE_SQL_DATABASE": "altaviz_serving-0a1b"}, "fabric_sql"
    )
    assert (s.kind, s.auth) == ("fabric_sql", "identity")  # the notebook's own Entra identity
    assert f"Server=tcp:{server},1433;Database=altaviz_serving-0a1b;Encrypt=yes" in s.connection_string()
    assert AzureSqlDatabase(s, connection=FakeConnection()).describe().startswith("fabric_sql://abcd1234")


@pytest.mark.parametrize(
    "server", ["x-y.datawarehouse.fabric.microsoft.com", "tcp:X.DataWarehouse.Fabric.Microsoft.com,1433"]
)
def test_a_read_only_sql_analytics_endpoint_is_refused_as_a_serving_target(server):
    for kind in azure_sql.KINDS:
        with pytest.raises(ValueError, match="read-only"):
            AzureSqlSettings.from_environment({"AZURE_SQL_SERVER": server, "AZURE_SQL_DATABASE": "lh"}, kind)


def test_an_unknown_serving_target_is_refused():
    from altaviz import publish

    with pytest.raises(ValueError, match="fabric_sql"), publish.open_serving_database("oracle"):
        pass


# ---------------------------------------------------------------- semantic link, runtime


def test_semantic_link_outside_fabric_logs_and_does_nothing(caplog):
    from altaviz.publish.semantic_link import refresh_after_publish

    with caplog.at_level(logging.INFO, logger="altaviz"):
        result = refresh_after_publish("Altaviz Fleet Health")
    assert result == {"sql_endpoint": "skipped (local)", "semantic_model": "skipped (local)"}
    assert "not running in Microsoft Fabric" in caplog.text and "Altaviz Fleet Health" in caplog.text


class _Details:
    def __init__(self, status, messages=None):
        self.status, self.messages = status, messages


def _fake_fabric(calls, table_statuses, refresh_statuses):
    class SqlEndpoint:
        @staticmethod
        def refresh_sql_endpoint_metadata(warehouse, warehouse_type, workspace=None):
            calls.append(("endpoint", warehouse, warehouse_type, workspace))
            return pa.table(
                {
                    "Table Name": [t for t, _, _ in table_statuses],
                    "Status": [s for _, s, _ in table_statuses],
                    "Error Message": [m for _, _, m in table_statuses],
                }
            ).to_pandas()

    class FakeFabric:
        sql_endpoint = SqlEndpoint

        @staticmethod
        def refresh_dataset(dataset, workspace=None):
            calls.append(("dataset", dataset, workspace))
            return "req-1"

        @staticmethod
        def get_refresh_execution_details(dataset, request_id, workspace=None):
            calls.append(("poll", dataset, request_id))
            return refresh_statuses.pop(0)

    return FakeFabric


def _in_fabric(monkeypatch, semantic_link, fabric):
    monkeypatch.setattr(runtime, "in_fabric", lambda: True)
    monkeypatch.setattr(
        runtime,
        "fabric_context",
        lambda: {"defaultLakehouseId": "lh", "currentWorkspaceId": "ws", "defaultLakehouseWorkspaceId": "ws"},
    )
    monkeypatch.setattr(semantic_link, "_sempy_fabric", lambda: fabric)
    monkeypatch.setattr(semantic_link.time, "sleep", lambda seconds: None)


def test_semantic_link_in_fabric_refreshes_endpoint_and_waits_for_the_model(monkeypatch):
    from altaviz.publish import semantic_link

    calls = []
    fabric = _fake_fabric(
        calls, [("gold_hourly_readings", "Success", None)], [_Details("Unknown"), _Details("Completed")]
    )
    _in_fabric(monkeypatch, semantic_link, fabric)
    result = semantic_link.refresh_after_publish("Altaviz Fleet Health")
    assert calls == [
        ("endpoint", "lh", "Lakehouse", "ws"),
        ("dataset", "Altaviz Fleet Health", None),
        ("poll", "Altaviz Fleet Health", "req-1"),
        ("poll", "Altaviz Fleet Health", "req-1"),
    ]
    assert result == {"sql_endpoint": "refreshed", "semantic_model": "refresh completed (req-1)"}


def test_a_failed_model_refresh_or_table_sync_fails_the_publish(monkeypatch):
    from altaviz.publish import semantic_link

    failed = _Details("Failed", [{"Type": "Error", "Message": "column vibration_mean not found"}])
    _in_fabric(monkeypatch, semantic_link, _fake_fabric([], [("t", "Success", None)], [failed]))
    with pytest.raises(RuntimeError, match="ended Failed: .*vibration_mean not found"):
        semantic_link.refresh_after_publish("Altaviz Fleet Health")

    broken_table = [("gold_hourly_readings", "Failure", "Delta log unreadable"), ("t2", "Success", None)]
    _in_fabric(monkeypatch, semantic_link, _fake_fabric([], broken_table, []))
    with pytest.raises(RuntimeError, match="1 table\\(s\\): gold_hourly_readings: Delta log unreadable"):
        semantic_link.refresh_after_publish("")


def test_a_model_refresh_that_never_ends_times_out():
    from altaviz.publish import semantic_link

    fabric = _fake_fabric([], [], [_Details("InProgress")] * 5)
    ticks = iter(range(0, 1000, 100))
    with pytest.raises(TimeoutError, match="still InProgress after 250 s"):
        semantic_link.wait_for_model_refresh(
            fabric, "m", "req-1", None, timeout_s=250, sleep=lambda s: None, clock=lambda: next(ticks)
        )


def test_runtime_secret_falls_back_to_a_local_variable(monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "local")
    assert (
        runtime.get_secret("altaviz-sql-client-secret", "https://kv.vault.azure.net/", env_var="AZURE_CLIENT_SECRET")
        == "local"
    )
    assert runtime.fabric_context() == {}
