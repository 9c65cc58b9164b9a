"""The T-SQL schema and every statement the Azure SQL publisher generates are real T-SQL.

sqlfluff's tsql dialect must parse each one with no unparsable section (sqlglot's tsql reader
accepts almost any text, so it is used only to read table definitions), nothing PostgreSQL-only
may appear, and the T-SQL schema declares the same tables, columns, views and indexes as the
PostgreSQL one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlfluff.core import FluffConfig, Linter
from sqlglot import exp

from altaviz.publish import LATEST_READINGS_COLUMNS, SERVING_TABLES, azure_sql

REPO = Path(__file__).resolve().parents[1]
TSQL_FILE = REPO / "sql/azure_sql/001_schema.sql"
PG_FILE = REPO / "sql/postgres/001_schema.sql"
OPERATOR_OWNED = {
    "status",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "operator_note",
}

# ``?`` markers are rendered by sqlfluff's own placeholder templater (qmark style) before parsing.
TSQL = FluffConfig.from_string(
    "[sqlfluff]\ndialect = tsql\ntemplater = placeholder\n"
    "[sqlfluff:templater:placeholder]\nparam_style = question_mark\n"
)
POSTGRES_ONLY = [
    r"\bTIMESTAMPTZ\b",
    r"\bBOOLEAN\b",
    r"\bDOUBLE\s+PRECISION\b",
    r"\bSERIAL\b",
    r"\bBIGSERIAL\b",
    r"\bJSONB?\b",
    r"\bGENERATED\s+ALWAYS\b",
    r"\bIF\s+NOT\s+EXISTS\s+\w",
    r"\bCREATE\s+OR\s+REPLACE\b",
    r"\bON\s+CONFLICT\b",
    r"\bIS\s+DISTINCT\s+FROM\b",
    r"\bRETURNING\b",
    r"\bILIKE\b",
    r"::",
    r"\bnow\(\)",
    r"\bCOPY\b",
    r"\bEXCLUDED\b",
    r"\bTEMP(ORARY)?\s+TABLE\b",
    r"\bLIMIT\s+\d",
    r"\bTEXT\b",
]


def parse_tsql(sql: str) -> list[str]:
    """Parse errors and unparsable sections; empty when sqlfluff's tsql dialect parses all of it."""
    parsed = Linter(config=TSQL).parse_string(sql)
    problems = [v.desc() for v in parsed.violations]
    if parsed.tree is None:
        return problems or ["no parse tree"]
    problems += [f"unparsable: {seg.raw[:80]!r}" for seg in parsed.tree.recursive_crawl("unparsable")]
    return problems


def strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def postgres_only(sql: str) -> list[str]:
    code = strip_comments(sql)
    return [p for p in POSTGRES_ONLY if re.search(p, code, re.IGNORECASE)]


def generated_statements() -> dict[str, str]:
    out = {
        "columns": azure_sql.columns_sql(),
        "watermark": azure_sql.watermark_sql(),
        "set_watermark": azure_sql.set_watermark_sql(),
        "alerts:delete": azure_sql.delete_sql("alerts", ["alert_id"], "alert_events"),
        "hourly:delete": azure_sql.delete_sql("hourly_readings", ["compressor_id", "hour_start"], None),
        "latest_readings:refresh": azure_sql.latest_readings_sql(LATEST_READINGS_COLUMNS),
    }
    for t in SERVING_TABLES.values():
        offsets = [c for c in t.columns if c.endswith(("_at", "hour_start"))]
        out[f"{t.name}:drop"] = azure_sql.drop_stage_sql(t.name)
        out[f"{t.name}:stage"] = azure_sql.create_stage_sql(t.name, t.columns, offsets)
        out[f"{t.name}:insert"] = azure_sql.insert_stage_sql(t.name, t.columns)
        out[f"{t.name}:merge"] = azure_sql.merge_sql(t.name, t.columns, t.key, t.touch_updated_at, offsets)
    return out


# ---------------------------------------------------------------- the checks themselves bite


def test_the_tsql_check_rejects_postgres_and_garbage():
    assert parse_tsql("SELECT a FROM t;\n") == []
    assert parse_tsql("INSERT INTO ? VALUES (?) and then some words;\n")
    assert parse_tsql("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a;\n")
    assert parse_tsql("MERGE INTO t USING s ON WHEN;\n")
    assert parse_tsql("CREATE TABLE t (a INT;\n")
    assert postgres_only("CREATE TABLE IF NOT EXISTS t (a TIMESTAMPTZ);") != []
    assert postgres_only("INSERT INTO t SELECT 1 ON CONFLICT (a) DO NOTHING;") != []


# ---------------------------------------------------------------- the schema file


def test_schema_parses_under_sqlfluff_tsql():
    assert parse_tsql(TSQL_FILE.read_text(encoding="utf-8")) == []


def test_schema_uses_no_postgres_only_types_or_clauses():
    assert postgres_only(TSQL_FILE.read_text(encoding="utf-8")) == []


def test_every_batch_parses_alone_as_the_publisher_sends_it():
    batches = azure_sql.split_batches(TSQL_FILE.read_text(encoding="utf-8"))
    assert len(batches) == 4  # tables and indexes, then one batch per view
    for batch in batches:
        assert not re.search(r"^\s*GO\s*$", batch, re.IGNORECASE | re.MULTILINE)
        assert parse_tsql(batch + "\n") == [], batch[:120]
    views = [b for b in batches if "CREATE OR ALTER VIEW" in b]
    assert all(b.lstrip("-\n ").count("CREATE OR ALTER VIEW") == 1 for b in views)


def test_schema_is_idempotent_by_construction():
    code = strip_comments(TSQL_FILE.read_text(encoding="utf-8"))
    creates = re.findall(r"CREATE TABLE dbo\.(\w+)", code)
    guarded = re.findall(r"IF OBJECT_ID\(N'dbo\.(\w+)', N'U'\) IS NULL\s+CREATE TABLE dbo\.(\w+)", code)
    assert creates and [a for a, b in guarded if a == b] == creates
    indexes = re.findall(r"CREATE INDEX (\w+)", code)
    guarded_ix = re.findall(r"WHERE name = N'(\w+)'[^)]*\)\s*\)\s+CREATE INDEX (\w+)", code)
    assert indexes and [a for a, b in guarded_ix if a == b] == indexes
    assert not re.search(r"\bCREATE VIEW\b", code), "views are CREATE OR ALTER"


def _tsql_tables() -> dict[str, set[str]]:
    tables = {}
    for batch in azure_sql.split_batches(TSQL_FILE.read_text(encoding="utf-8")):
        for statement in sqlglot.parse(batch, read="tsql"):
            for create in statement.find_all(exp.Create) if statement else ():
                if create.kind == "TABLE":
                    tables[create.this.this.name] = {
                        c.name for c in create.this.expressions if isinstance(c, exp.ColumnDef)
                    }
    return tables


def _pg_tables() -> dict[str, set[str]]:
    return {
        s.this.this.name: {c.name for c in s.this.expressions if isinstance(c, exp.ColumnDef)}
        for s in sqlglot.parse(PG_FILE.read_text(encoding="utf-8"), read="postgres")
        if isinstance(s, exp.Create) and s.kind == "TABLE"
    }


def test_tsql_and_postgres_schemas_declare_the_same_tables_and_columns():
    pg, ts = _pg_tables(), _tsql_tables()
    assert len(pg) == 16
    assert set(ts) == set(pg)
    for table, columns in pg.items():
        assert ts[table] == columns, (
            f"{table}: only in PostgreSQL {columns - ts[table]}, only in T-SQL {ts[table] - columns}"
        )


AUTH_TABLES = {"accounts", "auth_sessions", "auth_failed_sign_ins"}


def test_sign_in_tables_exist_in_both_dialects_and_are_never_published():
    pg, ts = _pg_tables(), _tsql_tables()
    assert AUTH_TABLES <= set(pg) and AUTH_TABLES <= set(ts)
    assert not (AUTH_TABLES & set(SERVING_TABLES)), "accounts and sessions belong to people, not to 05_publish"
    assert {"account_name", "role", "provider", "external_id", "password_hash"} <= pg["accounts"]
    # Signing an account out everywhere is deleting it: its sessions go with it in both dialects.
    for path in (PG_FILE, TSQL_FILE):
        text = path.read_text(encoding="utf-8")
        assert re.search(r"REFERENCES (?:dbo\.)?accounts \(account_id\) ON DELETE CASCADE", text)


def test_tsql_and_postgres_schemas_declare_the_same_views_and_indexes():
    def names(pattern: str, path: Path) -> set[str]:
        return set(re.findall(pattern, strip_comments(path.read_text(encoding="utf-8")), re.IGNORECASE))

    assert (
        names(r"CREATE OR ALTER VIEW (?:dbo\.)?(\w+)", TSQL_FILE)
        == names(r"CREATE VIEW (\w+)", PG_FILE)
        == {"v_latest_readings", "v_active_alerts", "v_fleet_health"}
    )
    # Covering indexes that stand in for the clustered primary keys Azure SQL has and PostgreSQL lacks.
    postgres_only = {"ix_hourly_readings_series", "ix_predictions_series"}
    assert (
        names(r"CREATE INDEX (\w+)", TSQL_FILE) == names(r"CREATE INDEX IF NOT EXISTS (\w+)", PG_FILE) - postgres_only
    )
    tsql = strip_comments(TSQL_FILE.read_text(encoding="utf-8")).upper()
    assert "NONCLUSTERED" not in tsql and "CLUSTERED INDEX" not in tsql, "T-SQL primary keys must stay clustered"


def test_serving_tables_publish_existing_columns_and_never_operator_owned_ones():
    ts = _tsql_tables()
    for t in SERVING_TABLES.values():
        assert set(t.columns) <= ts[t.name], t.name
        assert set(t.key) <= set(t.columns)
        if t.name == "alerts":
            assert not (OPERATOR_OWNED & set(t.columns)), "publish must never write operator-owned alert columns"
            assert OPERATOR_OWNED <= ts["alerts"]
        assert ("updated_at" in ts[t.name]) == t.touch_updated_at, f"{t.name}: updated_at vs touch_updated_at"


def test_latest_readings_mirrors_hourly_readings_and_its_refresh_also_removes_units_without_readings():
    ts = _tsql_tables()
    assert set(LATEST_READINGS_COLUMNS) == ts["latest_readings"] == ts["hourly_readings"]
    refresh = azure_sql.latest_readings_sql(LATEST_READINGS_COLUMNS)
    assert "CROSS APPLY" in refresh and "WHEN NOT MATCHED BY SOURCE THEN\n    DELETE;" in refresh


# ---------------------------------------------------------------- generated statements


@pytest.mark.parametrize("name, sql", sorted(generated_statements().items()))
def test_generated_statement_parses_under_sqlfluff_tsql(name, sql):
    assert parse_tsql(sql + "\n") == [], sql
    assert postgres_only(sql) == [], sql


def test_merge_writes_only_published_columns_and_skips_identical_rows():
    t = SERVING_TABLES["alerts"]
    sql = azure_sql.merge_sql(t.name, t.columns, t.key, t.touch_updated_at, ["opened_at"])
    assert sql.startswith("MERGE INTO dbo.[alerts] WITH (HOLDLOCK) AS t")
    assert "ON t.[alert_id] = s.[alert_id]" in sql
    update = re.search(r"UPDATE SET (.*)", sql).group(1)
    set_cols = re.findall(r"t\.\[(\w+)\] =", update)
    assert set_cols == [c for c in t.columns if c not in t.key] + ["updated_at"]
    assert not (OPERATOR_OWNED & set(re.findall(r"\[(\w+)\]", sql)))
    assert "WHEN MATCHED AND EXISTS (" in sql and "EXCEPT" in sql  # null-safe "is distinct from"
    assert "WHEN NOT MATCHED BY TARGET THEN" in sql
    assert "WHEN NOT MATCHED BY SOURCE" not in sql  # deletes are explicit (delete_sql), never implied
    assert "CAST(s.[opened_at] AS DATETIMEOFFSET(6)) AS [opened_at]" in sql


def test_merge_of_an_append_only_table_does_not_touch_updated_at():
    t = SERVING_TABLES["data_quality_metrics"]
    sql = azure_sql.merge_sql(t.name, t.columns, t.key, t.touch_updated_at)
    assert "updated_at" not in sql and "SYSDATETIMEOFFSET" not in sql


def test_merge_of_a_key_only_table_only_inserts():
    sql = azure_sql.merge_sql("pipeline_runs", ["run_id"], ["run_id"], True)
    assert "WHEN MATCHED" not in sql and "WHEN NOT MATCHED BY TARGET" in sql
    assert parse_tsql(sql + "\n") == []


def test_statement_builders_refuse_unexpected_identifiers():
    with pytest.raises(ValueError, match="identifier"):
        azure_sql.merge_sql("alerts; DROP TABLE x", ["a"], ["a"], False)
    with pytest.raises(ValueError, match="identifier"):
        azure_sql.insert_stage_sql("alerts", ["a]", "b"])
    with pytest.raises(ValueError, match="key columns"):
        azure_sql.merge_sql("alerts", ["a"], ["b"], False)
