"""Azure SQL Database (or a SQL database in Fabric, ``fabric_sql``) serving target: T-SQL DDL from
sql/azure_sql, a #temp stage filled with ``fast_executemany`` in batches, then one set-based MERGE
per table.

The ODBC driver often cannot describe a #temp table's parameters, and pyodbc's fast_executemany
then binds every string as VARCHAR(255), so a longer value fails or is cut. The publisher therefore
binds every parameter's type and size itself (``cursor.setinputsizes``), from the declared columns
of the target table the stage copies (INFORMATION_SCHEMA, i.e. the DDL in sql/azure_sql).

Same contract as ``postgres.PostgresDatabase``: only pipeline-owned columns are written (operator
actions survive), a row identical to the stored one is not touched (``EXISTS (… EXCEPT …)`` is
T-SQL's null-safe ``IS DISTINCT FROM``), and a republish of the same data changes nothing.

Authentication is a Microsoft Entra access token handed to ODBC Driver 18
(``SQL_COPT_SS_ACCESS_TOKEN``): the notebook identity in Fabric, a service principal, or
azure-identity's default chain locally. ``pyodbc`` is imported only when a connection is opened,
so local PostgreSQL runs never need unixODBC.
"""

from __future__ import annotations

import logging
import os
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from altaviz import runtime

log = logging.getLogger("altaviz.publish")

SQL_AUDIENCE = "https://database.windows.net/"
SQL_COPT_SS_ACCESS_TOKEN = 1256  # msodbcsql.h: pre-connect attribute carrying the Entra token
DEFAULT_DRIVER = "ODBC Driver 18 for SQL Server"
# 05_publish's notebook (and pipeline) parameters → the environment variables they stand in for:
# a Fabric notebook has no environment of its own.
NOTEBOOK_PARAMETERS = {
    "sql_server": "AZURE_SQL_SERVER",
    "sql_database": "AZURE_SQL_DATABASE",
    "sql_auth": "AZURE_SQL_AUTH",
    "sql_driver": "AZURE_SQL_DRIVER",
    "tenant_id": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "key_vault_url": "AZURE_KEY_VAULT_URL",
    "sql_client_secret_name": "AZURE_SQL_CLIENT_SECRET_NAME",
}

DEFAULT_BATCH_SIZE = 10_000
SCHEMA = "dbo"
# Timestamps arrive as ISO-8601 text with offset (see publish._serving_rows); they are staged as text
# and CAST on the server, so no client-side timezone handling can shift them.
OFFSET_TYPES = frozenset({"datetimeoffset"})
OFFSET_STAGE_TYPE = "NVARCHAR(40)"
OFFSET_TYPE = "DATETIMEOFFSET(6)"
AUTH_MODES = ("identity", "service_principal", "default")
# Serving targets this module publishes to. A SQL database in Fabric speaks the same T-SQL over the
# same TDS endpoint with the same Entra tokens as Azure SQL Database; only where it lives differs.
KINDS = ("azure_sql", "fabric_sql")
# Host suffixes of the read-only SQL analytics endpoints (lakehouse / warehouse): never a serving target.
READ_ONLY_ENDPOINTS = (".datawarehouse.fabric.microsoft.com", ".datawarehouse.pbidedicated.windows.net")

# ODBC SQL type codes (sql.h / sqlext.h; the same values as pyodbc.SQL_*), so input sizes can be
# computed and tested without pyodbc installed.
SQL_WVARCHAR = -9
SQL_WLONGVARCHAR = -10
SQL_VARCHAR = 12
SQL_INTEGER = 4
SQL_BIGINT = -5
SQL_SMALLINT = 5
SQL_BIT = -7
SQL_DOUBLE = 8
SQL_REAL = 7
SQL_TYPE_DATE = 91
SQL_TYPE_TIMESTAMP = 93
# DATA_TYPE (INFORMATION_SCHEMA) → ODBC type of a fixed-size column: (type, column size, decimal digits).
# pyodbc's fast_executemany takes these instead of describing the parameter (pyodbc params.cpp,
# UpdateParamInfo), which for a #temp table often fails and falls back to SQL_VARCHAR(255).
FIXED_INPUT_SIZES = {
    "int": (SQL_INTEGER, 0, 0),
    "bigint": (SQL_BIGINT, 0, 0),
    "smallint": (SQL_SMALLINT, 0, 0),
    "bit": (SQL_BIT, 0, 0),
    "float": (SQL_DOUBLE, 0, 0),
    "real": (SQL_REAL, 0, 0),
    "date": (SQL_TYPE_DATE, 10, 0),
    "datetime2": (SQL_TYPE_TIMESTAMP, 27, 7),
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_GO = re.compile(r"^\s*GO\s*;?\s*$", re.IGNORECASE | re.MULTILINE)


def overrides_from_parameters(parameters: Mapping[str, str]) -> dict[str, str]:
    """05_publish's parameters as the environment variables they override (for ``from_environment``)."""
    unknown = sorted(set(parameters) - set(NOTEBOOK_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown Azure SQL parameters {unknown}; known: {', '.join(NOTEBOOK_PARAMETERS)}")
    return {NOTEBOOK_PARAMETERS[name]: value for name, value in parameters.items()}


# ---------------------------------------------------------------- DDL


def ddl_text() -> str:
    """The T-SQL schema shipped inside the wheel (copied from the repository's sql/ folder)."""
    folder = resources.files("altaviz").joinpath("sql/azure_sql")
    return "\n".join(
        f.read_text(encoding="utf-8") for f in sorted(folder.iterdir(), key=lambda p: p.name) if f.name.endswith(".sql")
    )


def split_batches(script: str) -> list[str]:
    """T-SQL batches of a script, split on ``GO`` lines (a client-side separator ODBC cannot send)."""
    return [batch.strip() for batch in _GO.split(script) if _has_sql(batch)]


def _has_sql(batch: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in batch.splitlines())


# ---------------------------------------------------------------- statements


def quote(name: str) -> str:
    """A bracket-quoted identifier; names come from code, and anything unexpected is refused."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"refusing unexpected SQL identifier {name!r}")
    return f"[{name}]"


def stage_name(table: str) -> str:
    """The session-scoped #temp stage of ``table`` (dropped at commit of each upsert)."""
    quote(table)
    return f"[#stage_{table}]"


def columns_sql() -> str:
    """Column names, types and declared character lengths (-1 = MAX) of one serving table (``?`` = table name)."""
    return (
        "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM INFORMATION_SCHEMA.COLUMNS\n"
        f"WHERE TABLE_SCHEMA = N'{SCHEMA}' AND TABLE_NAME = ?;"
    )


@dataclass(frozen=True)
class ColumnType:
    """A target column as INFORMATION_SCHEMA declares it."""

    data_type: str
    max_length: int | None = None  # characters; -1 for (N)VARCHAR(MAX)


def input_size(column: str, declared: ColumnType, offset_columns: Iterable[str]) -> tuple[int, int, int]:
    """The (ODBC type, size, decimal digits) the stage's parameter for ``column`` is bound with.

    Offset columns are staged as NVARCHAR(40) text (see ``create_stage_sql``); strings get their
    declared length (MAX as a long type), never the driver's 255 guess.
    """
    if column in set(offset_columns):
        return (SQL_WVARCHAR, int(OFFSET_STAGE_TYPE[len("NVARCHAR(") : -1]), 0)
    kind = declared.data_type.lower()
    if kind in ("nvarchar", "nchar", "varchar", "char"):
        if declared.max_length is None:
            raise ValueError(f"column {column} ({kind}) has no declared length")
        if declared.max_length == -1:
            return (SQL_WLONGVARCHAR, 0, 0)
        return (SQL_WVARCHAR if kind.startswith("n") else SQL_VARCHAR, declared.max_length, 0)
    if kind not in FIXED_INPUT_SIZES:
        raise ValueError(f"column {column}: no ODBC binding for SQL type {kind!r}")
    return FIXED_INPUT_SIZES[kind]


def input_sizes(
    columns: Sequence[str], declared: Mapping[str, ColumnType], offset_columns: Iterable[str]
) -> list[tuple[int, int, int]]:
    """``input_size`` of each staged column, in insert order (what ``cursor.setinputsizes`` takes)."""
    offsets = frozenset(offset_columns)
    missing = [c for c in columns if c not in declared]
    if missing:
        raise ValueError(f"columns {missing} are not declared in the target table")
    return [input_size(c, declared[c], offsets) for c in columns]


def drop_stage_sql(table: str) -> str:
    return f"DROP TABLE IF EXISTS {stage_name(table)};"


def create_stage_sql(table: str, columns: Sequence[str], offset_columns: Iterable[str]) -> str:
    """An empty #temp stage shaped like the target's columns; offset columns staged as text."""
    offsets = set(offset_columns)
    exprs = [f"CAST(NULL AS {OFFSET_STAGE_TYPE}) AS {quote(c)}" if c in offsets else f"t.{quote(c)}" for c in columns]
    return f"SELECT TOP (0) {', '.join(exprs)}\nINTO {stage_name(table)}\nFROM {SCHEMA}.{quote(table)} AS t;"


def insert_stage_sql(table: str, columns: Sequence[str]) -> str:
    cols = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {stage_name(table)} ({cols}) VALUES ({marks});"


def merge_sql(
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    touch_updated_at: bool,
    offset_columns: Iterable[str] = (),
) -> str:
    """One MERGE from the stage: insert new keys, update changed rows, leave identical rows alone.

    ``HOLDLOCK`` makes the MERGE serializable on the key range, so two concurrent publishes cannot
    both insert the same key. Only ``columns`` are written: operator-owned columns survive.
    """
    missing = [k for k in key if k not in columns]
    if missing:
        raise ValueError(f"{table}: key columns {missing} are not among the published columns {list(columns)}")
    offsets = set(offset_columns)
    source = ", ".join(
        f"CAST(s.{quote(c)} AS {OFFSET_TYPE}) AS {quote(c)}" if c in offsets else f"s.{quote(c)}" for c in columns
    )
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key)
    updatable = [c for c in columns if c not in key]
    lines = [
        f"MERGE INTO {SCHEMA}.{quote(table)} WITH (HOLDLOCK) AS t",
        f"USING (SELECT {source} FROM {stage_name(table)} AS s) AS s",
        f"ON {on}",
    ]
    if updatable:
        assignments = [f"t.{quote(c)} = s.{quote(c)}" for c in updatable]
        if touch_updated_at:
            assignments.append("t.[updated_at] = SYSDATETIMEOFFSET()")
        lines += [
            "WHEN MATCHED AND EXISTS (",
            f"    SELECT {', '.join(f's.{quote(c)}' for c in updatable)}",
            "    EXCEPT",
            f"    SELECT {', '.join(f't.{quote(c)}' for c in updatable)}",
            ") THEN",
            f"    UPDATE SET {', '.join(assignments)}",
        ]
    cols = ", ".join(quote(c) for c in columns)
    lines += [
        "WHEN NOT MATCHED BY TARGET THEN",
        f"    INSERT ({cols}) VALUES ({', '.join(f's.{quote(c)}' for c in columns)});",
    ]
    return "\n".join(lines)


def delete_sql(table: str, key: Sequence[str], unless_referenced_by: str | None) -> str:
    """Deletes the target rows whose keys are in the stage, except rows another table refers to."""
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in key)
    sql = f"DELETE t\nFROM {SCHEMA}.{quote(table)} AS t\nINNER JOIN {stage_name(table)} AS s ON {on}"
    if unless_referenced_by:
        refs = " AND ".join(f"r.{quote(k)} = t.{quote(k)}" for k in key)
        sql += f"\nWHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.{quote(unless_referenced_by)} AS r WHERE {refs})"
    return sql + ";"


def watermark_sql() -> str:
    return f"SELECT table_id, delta_version FROM {SCHEMA}.publish_watermarks WHERE source_table = ?;"


def set_watermark_sql() -> str:
    return "\n".join(
        [
            f"MERGE INTO {SCHEMA}.publish_watermarks WITH (HOLDLOCK) AS t",
            "USING (SELECT ? AS source_table, ? AS table_id, ? AS delta_version) AS s",
            "ON t.source_table = s.source_table",
            "WHEN MATCHED THEN",
            "    UPDATE SET t.table_id = s.table_id, t.delta_version = s.delta_version, "
            "t.published_at = SYSDATETIMEOFFSET()",
            "WHEN NOT MATCHED BY TARGET THEN",
            "    INSERT (source_table, table_id, delta_version) VALUES (s.source_table, s.table_id, s.delta_version);",
        ]
    )


def latest_readings_sql(columns: Sequence[str]) -> str:
    """latest_readings := each compressor's newest hourly row (a TOP 1 probe of the primary key per
    unit), in one MERGE: unchanged rows (same hour, same source updated_at) are left alone, and units
    without readings lose theirs."""
    cols = ", ".join(quote(c) for c in columns)
    updatable = [c for c in columns if c != "compressor_id"]
    return "\n".join(
        [
            f"MERGE INTO {SCHEMA}.[latest_readings] WITH (HOLDLOCK) AS t",
            "USING (",
            f"    SELECT {', '.join(f'l.{quote(c)}' for c in columns)}",
            f"    FROM {SCHEMA}.[compressors] AS c",
            "    CROSS APPLY (",
            f"        SELECT TOP (1) {', '.join(f'h.{quote(c)}' for c in columns)}",
            f"        FROM {SCHEMA}.[hourly_readings] AS h",
            "        WHERE h.[compressor_id] = c.[compressor_id]",
            "        ORDER BY h.[hour_start] DESC",
            "    ) AS l",
            ") AS s",
            "ON t.[compressor_id] = s.[compressor_id]",
            "WHEN MATCHED AND (t.[hour_start] <> s.[hour_start] OR t.[updated_at] <> s.[updated_at]) THEN",
            f"    UPDATE SET {', '.join(f't.{quote(c)} = s.{quote(c)}' for c in updatable)}",
            "WHEN NOT MATCHED BY TARGET THEN",
            f"    INSERT ({cols}) VALUES ({', '.join(f's.{quote(c)}' for c in columns)})",
            "WHEN NOT MATCHED BY SOURCE THEN",
            "    DELETE;",
        ]
    )


def rows_for_odbc(rows: pa.Table, offset_columns: Iterable[str]) -> Iterator[tuple[object, ...]]:
    """Arrow rows as Python tuples; offset columns as ISO-8601 text in UTC (``…+00:00``), which the
    MERGE casts on the server, so no client time zone can shift them."""
    offsets = set(offset_columns)
    columns = []
    for name in rows.column_names:
        column = rows.column(name)
        if name in offsets and pa.types.is_timestamp(column.type):
            utc = pc.cast(column, pa.timestamp("us", tz="UTC"))
            column = pc.binary_join_element_wise(pc.strftime(utc, format="%Y-%m-%dT%H:%M:%S"), "+00:00", "")
        columns.append(column.to_pylist())
    return zip(*columns, strict=True)


def batched(rows: Iterable[Sequence[object]], size: int) -> Iterator[list[tuple[object, ...]]]:
    """Rows in lists of at most ``size``; the whole table is never held in memory."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    it = iter(rows)
    while chunk := [tuple(r) for r in islice(it, size)]:
        yield chunk


# ---------------------------------------------------------------- settings and connection


@dataclass(frozen=True)
class AzureSqlSettings:
    """Where and how to connect. Every field has an environment variable; notebook parameters
    (``sql_server`` / ``sql_database`` on 05_publish) override them."""

    server: str
    database: str
    auth: str = "identity"
    driver: str = DEFAULT_DRIVER
    tenant_id: str = ""
    client_id: str = ""
    key_vault_url: str = ""
    client_secret_name: str = "altaviz-sql-client-secret"
    batch_size: int = DEFAULT_BATCH_SIZE
    kind: str = "azure_sql"  # or "fabric_sql": a SQL database in Fabric

    @classmethod
    def from_environment(cls, overrides: Mapping[str, str] | None = None, kind: str = "azure_sql") -> AzureSqlSettings:
        """``AZURE_SQL_SERVER``, ``AZURE_SQL_DATABASE``, ``AZURE_SQL_AUTH``
        (identity | service_principal | default), ``AZURE_SQL_DRIVER``, ``AZURE_TENANT_ID``,
        ``AZURE_CLIENT_ID``, ``AZURE_KEY_VAULT_URL``, ``AZURE_SQL_CLIENT_SECRET_NAME``,
        ``AZURE_SQL_BATCH_SIZE``; ``overrides`` (same names) win over the environment when non-empty."""
        values = {**os.environ, **{k: v for k, v in (overrides or {}).items() if v}}
        server = values.get("AZURE_SQL_SERVER", "").strip()
        database = values.get("AZURE_SQL_DATABASE", "").strip()
        if kind not in KINDS:
            raise ValueError(f"unknown T-SQL serving target {kind!r}; known: {', '.join(KINDS)}")
        example = "<id>.database.fabric.microsoft.com" if kind == "fabric_sql" else "myserver.database.windows.net"
        if not server or not database:
            raise ValueError(
                f"DB_TYPE={kind} needs AZURE_SQL_SERVER (e.g. {example}) and "
                "AZURE_SQL_DATABASE (or the 05_publish parameters sql_server / sql_database)"
            )
        host = server.removeprefix("tcp:").split(",")[0].lower()
        if host.endswith(READ_ONLY_ENDPOINTS):
            raise ValueError(
                f"{server} is a lakehouse or warehouse SQL analytics endpoint, which is read-only; publish to "
                "a SQL database in Fabric (DB_TYPE=fabric_sql, its server ends in .database.fabric.microsoft.com) "
                "or to Azure SQL (DB_TYPE=azure_sql)"
            )
        auth = (values.get("AZURE_SQL_AUTH") or ("identity" if runtime.in_fabric() else "default")).lower()
        if auth not in AUTH_MODES:
            raise ValueError(f"AZURE_SQL_AUTH must be one of {', '.join(AUTH_MODES)}, got {auth!r}")
        return cls(
            server=server,
            database=database,
            auth=auth,
            driver=values.get("AZURE_SQL_DRIVER") or DEFAULT_DRIVER,
            tenant_id=values.get("AZURE_TENANT_ID", ""),
            client_id=values.get("AZURE_CLIENT_ID", ""),
            key_vault_url=values.get("AZURE_KEY_VAULT_URL", ""),
            client_secret_name=values.get("AZURE_SQL_CLIENT_SECRET_NAME") or "altaviz-sql-client-secret",
            batch_size=int(values.get("AZURE_SQL_BATCH_SIZE") or DEFAULT_BATCH_SIZE),
            kind=kind,
        )

    def connection_string(self) -> str:
        server = self.server if self.server.startswith("tcp:") else f"tcp:{self.server},1433"
        return (
            f"Driver={{{self.driver}}};Server={server};Database={self.database};"
            "Encrypt=yes;TrustServerCertificate=no;Connection Timeout=30"
        )

    def access_token(self) -> str:
        """A Microsoft Entra token for Azure SQL under the configured identity."""
        if self.auth == "service_principal":
            secret = runtime.get_secret(self.client_secret_name, self.key_vault_url, env_var="AZURE_CLIENT_SECRET")
            if not (self.tenant_id and self.client_id and secret):
                raise ValueError(
                    "AZURE_SQL_AUTH=service_principal needs AZURE_TENANT_ID, AZURE_CLIENT_ID and the "
                    "client secret (Key Vault secret AZURE_SQL_CLIENT_SECRET_NAME in Fabric, "
                    "AZURE_CLIENT_SECRET locally)"
                )
            from azure.identity import ClientSecretCredential

            credential = ClientSecretCredential(self.tenant_id, self.client_id, secret)
            return credential.get_token(SQL_AUDIENCE + ".default").token
        # identity: the notebook's own identity in Fabric; default: azure-identity's chain locally.
        return runtime.get_token(SQL_AUDIENCE)


def token_struct(token: str) -> bytes:
    """The token as ODBC Driver 18 expects it: UTF-16-LE bytes behind a 4-byte little-endian length."""
    raw = token.encode("utf-16-le")
    return struct.pack(f"<I{len(raw)}s", len(raw), raw)


def connect(settings: AzureSqlSettings) -> Any:
    try:
        import pyodbc  # the `fabric` extra; needs unixODBC and ODBC Driver 18 on the machine
    except ImportError as err:
        raise RuntimeError(
            "Azure SQL publishing needs pyodbc with unixODBC and Microsoft ODBC Driver 18 "
            f"(pip install 'altaviz[fabric]'; apt-get install msodbcsql18): {err}"
        ) from err
    if settings.driver not in pyodbc.drivers():
        raise RuntimeError(f"ODBC driver {settings.driver!r} is not installed; found {pyodbc.drivers()}")
    attrs = {SQL_COPT_SS_ACCESS_TOKEN: token_struct(settings.access_token())}
    return pyodbc.connect(settings.connection_string(), attrs_before=attrs, autocommit=False)


# ---------------------------------------------------------------- the serving database


class AzureSqlDatabase:
    def __init__(
        self,
        settings: AzureSqlSettings,
        connection: Any | None = None,
        connector: Callable[[AzureSqlSettings], Any] = connect,
    ) -> None:
        self.settings = settings
        self._conn = connection if connection is not None else connector(settings)
        self._declared: dict[str, dict[str, ColumnType]] = {}
        self._cursor: Any | None = None

    @classmethod
    def from_environment(cls, overrides: Mapping[str, str] | None = None, kind: str = "azure_sql") -> AzureSqlDatabase:
        return cls(AzureSqlSettings.from_environment(overrides, kind))

    def describe(self) -> str:
        return f"{self.settings.kind}://{self.settings.server}/{self.settings.database} (auth={self.settings.auth})"

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor whose work commits together or rolls back together; inside an outer transaction,
        that one's cursor, committed with it."""
        if self._cursor is not None:
            yield self._cursor
            return
        cur = self._cursor = self._conn.cursor()
        try:
            yield cur
            self._conn.commit()
        except Exception:
            self._conn.rollback()
            raise
        finally:
            self._cursor = None
            cur.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._transaction():
            yield

    def apply_schema(self) -> None:
        with self._transaction() as cur:
            for batch in split_batches(ddl_text()):
                cur.execute(batch)

    def _columns(self, cur: Any, table: str) -> dict[str, ColumnType]:
        """The target table's declared columns, read once per table."""
        if table not in self._declared:
            cur.execute(columns_sql(), table)
            found = {
                str(name): ColumnType(str(kind).lower(), None if length is None else int(length))
                for name, kind, length in cur.fetchall()
            }
            if not found:
                raise RuntimeError(f"table {SCHEMA}.{table} does not exist in {self.describe()}")
            self._declared[table] = found
        return self._declared[table]

    def _offsets(self, cur: Any, table: str) -> frozenset[str]:
        return frozenset(c for c, t in self._columns(cur, table).items() if t.data_type in OFFSET_TYPES)

    def _stage(self, cur: Any, table: str, columns: Sequence[str], rows: pa.Table, offsets: frozenset[str]) -> int:
        cur.execute(drop_stage_sql(table))
        cur.execute(create_stage_sql(table, columns, offsets))
        cur.fast_executemany = True  # one round trip per batch instead of one per row
        # Bound explicitly: the driver cannot describe a #temp table's columns (see module docstring).
        cur.setinputsizes(input_sizes(columns, self._columns(cur, table), offsets))
        insert = insert_stage_sql(table, columns)
        staged = 0
        try:
            for chunk in batched(rows_for_odbc(rows.select(list(columns)), offsets), self.settings.batch_size):
                cur.executemany(insert, chunk)
                staged += len(chunk)
        finally:
            # The sizes stay on the cursor: cleared so the next statement on it binds its own.
            cur.setinputsizes(None)
        return staged

    def upsert(
        self, table: str, columns: Sequence[str], key: Sequence[str], rows: pa.Table, touch_updated_at: bool
    ) -> int:
        """Stages ``rows`` in batches, then MERGEs them in one statement, in one transaction.

        Returns the number of rows inserted or changed (identical rows are not counted).
        """
        with self._transaction() as cur:
            offsets = self._offsets(cur, table)
            staged = self._stage(cur, table, columns, rows, offsets)
            cur.execute(merge_sql(table, columns, key, touch_updated_at, offsets))
            changed = max(cur.rowcount, 0)
            cur.execute(drop_stage_sql(table))
        log.debug("%s: %d rows staged, %d inserted or changed", table, staged, changed)
        return changed

    def delete(self, table: str, key: Sequence[str], keys: pa.Table, unless_referenced_by: str | None) -> int:
        """Deletes the rows with these keys, except rows that ``unless_referenced_by`` still refers to."""
        with self._transaction() as cur:
            offsets = self._offsets(cur, table)
            self._stage(cur, table, key, keys, offsets)
            cur.execute(delete_sql(table, key, unless_referenced_by))
            deleted = max(cur.rowcount, 0)
            cur.execute(drop_stage_sql(table))
        return deleted

    def watermark(self, source: str) -> tuple[str, int] | None:
        with self._transaction() as cur:
            cur.execute(watermark_sql(), source)
            row = cur.fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def set_watermark(self, source: str, table_id: str, version: int) -> None:
        with self._transaction() as cur:
            cur.execute(set_watermark_sql(), source, table_id, version)

    def refresh_latest_readings(self, columns: Sequence[str]) -> int:
        with self._transaction() as cur:
            cur.execute(latest_readings_sql(columns))
            return max(cur.rowcount, 0)

    def close(self) -> None:
        self._conn.close()
