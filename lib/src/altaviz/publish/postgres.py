"""PostgreSQL serving target: DDL from sql/postgres, Arrow → CSV → COPY into a staging table, then
one set-based upsert per table."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

log = logging.getLogger("altaviz.publish")

# COPY in chunks of this many rows, so a large first publish never holds its whole CSV in memory.
COPY_CHUNK_ROWS = 200_000


def ddl_text() -> str:
    """The PostgreSQL schema shipped inside the wheel (copied from the repository's sql/ folder)."""
    folder = resources.files("altaviz").joinpath("sql/postgres")
    return "\n".join(
        f.read_text(encoding="utf-8") for f in sorted(folder.iterdir(), key=lambda p: p.name) if f.name.endswith(".sql")
    )


def _csv_chunks(rows: pa.Table) -> Iterator[bytes]:
    """Arrow rows as CSV without header (null → empty field, which COPY's CSV format reads as NULL;
    timestamps carry their UTC offset, so no session time zone can shift them)."""
    options = pa_csv.WriteOptions(include_header=False)
    for start in range(0, rows.num_rows, COPY_CHUNK_ROWS):
        buffer = io.BytesIO()
        pa_csv.write_csv(rows.slice(start, COPY_CHUNK_ROWS), buffer, options)
        yield buffer.getvalue()


class PostgresDatabase:
    def __init__(self, url: str) -> None:
        self._url = url
        # Autocommit outside explicit transaction() blocks; inside one, everything commits together.
        self._conn = psycopg.connect(url, autocommit=True)

    def describe(self) -> str:
        info = self._conn.info
        return f"postgresql://{info.user}@{info.host or 'localhost'}/{info.dbname}"

    def apply_schema(self) -> None:
        with self._conn.transaction():
            self._conn.execute(ddl_text())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    def _stage(self, cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: pa.Table) -> sql.Identifier:
        """A temporary table shaped like ``table``'s ``columns``, filled with ``rows`` by COPY."""
        stage = sql.Identifier(f"_stage_{table}")
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                stage, cols, sql.Identifier(table)
            )
        )
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(stage, cols)) as copy:
            for chunk in _csv_chunks(rows.select(list(columns))):
                copy.write(chunk)
        return stage

    def upsert(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        rows: pa.Table,
        touch_updated_at: bool,
    ) -> int:
        """Bulk-loads ``rows`` and upserts them; rows identical to what is stored are left untouched.

        Only ``columns`` are written, so columns owned by people (alert status, notes) survive.
        Returns the number of rows inserted or changed.
        """
        if rows.num_rows == 0:
            return 0
        cols = sql.SQL(", ").join(map(sql.Identifier, columns))
        updatable = [c for c in columns if c not in key]
        assignments = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updatable]
        if touch_updated_at:
            assignments.append(sql.SQL("updated_at = now()"))
        changed = sql.SQL("({}) IS DISTINCT FROM ({})").format(
            sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in updatable),
            sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in updatable),
        )
        conflict = (
            sql.SQL("DO UPDATE SET {} WHERE {}").format(sql.SQL(", ").join(assignments), changed)
            if updatable
            else sql.SQL("DO NOTHING")
        )
        with self._conn.transaction(), self._conn.cursor() as cur:
            stage = self._stage(cur, table, columns, rows)
            cur.execute(
                sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
                    sql.Identifier(table), cols, cols, stage, sql.SQL(", ").join(map(sql.Identifier, key)), conflict
                )
            )
            count = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(stage))
            return count

    def delete(self, table: str, key: Sequence[str], keys: pa.Table, unless_referenced_by: str | None) -> int:
        """Deletes the rows with these keys, except rows that ``unless_referenced_by`` still refers to."""
        if keys.num_rows == 0:
            return 0
        match = sql.SQL(" AND ").join(sql.SQL("t.{c} = s.{c}").format(c=sql.Identifier(k)) for k in key)
        keep = sql.SQL("")
        if unless_referenced_by:
            keep = sql.SQL(" AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})").format(
                sql.Identifier(unless_referenced_by),
                sql.SQL(" AND ").join(sql.SQL("r.{c} = t.{c}").format(c=sql.Identifier(k)) for k in key),
            )
        with self._conn.transaction(), self._conn.cursor() as cur:
            stage = self._stage(cur, table, key, keys)
            cur.execute(
                sql.SQL("DELETE FROM {} t USING {} s WHERE {}{}").format(sql.Identifier(table), stage, match, keep)
            )
            count = cur.rowcount
            cur.execute(sql.SQL("DROP TABLE {}").format(stage))
        kept = keys.num_rows - count
        if kept:
            log.info("%s: %d rows no longer in the lakehouse kept: operators acted on them", table, kept)
        return count

    def watermark(self, source: str) -> tuple[str, int] | None:
        row = self._conn.execute(
            "SELECT table_id, delta_version FROM publish_watermarks WHERE source_table = %s", (source,)
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def set_watermark(self, source: str, table_id: str, version: int) -> None:
        self._conn.execute(
            "INSERT INTO publish_watermarks AS w (source_table, table_id, delta_version) VALUES (%s, %s, %s) "
            "ON CONFLICT (source_table) DO UPDATE SET table_id = EXCLUDED.table_id, "
            "delta_version = EXCLUDED.delta_version, published_at = now()",
            (source, table_id, version),
        )

    def refresh_latest_readings(self, columns: Sequence[str]) -> int:
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(latest_readings_sql(columns))
            changed = cur.rowcount
            cur.execute(
                "DELETE FROM latest_readings t "
                "WHERE NOT EXISTS (SELECT 1 FROM hourly_readings h WHERE h.compressor_id = t.compressor_id)"
            )
            return changed + cur.rowcount

    def close(self) -> None:
        self._conn.close()


def latest_readings_sql(columns: Sequence[str]) -> sql.Composed:
    """Upsert of each compressor's newest hourly row (a backward probe of the primary key per unit)
    into latest_readings; a row whose hour and source updated_at are unchanged is left alone."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    h_cols = sql.SQL(", ").join(sql.SQL("h.{}").format(sql.Identifier(c)) for c in columns)
    l_cols = sql.SQL(", ").join(sql.SQL("l.{}").format(sql.Identifier(c)) for c in columns)
    updatable = [c for c in columns if c != "compressor_id"]
    return sql.SQL(
        "INSERT INTO latest_readings AS t ({cols}) "
        "SELECT {l_cols} FROM compressors c CROSS JOIN LATERAL ("
        "SELECT {h_cols} FROM hourly_readings h WHERE h.compressor_id = c.compressor_id "
        "ORDER BY h.hour_start DESC LIMIT 1) l "
        "ON CONFLICT (compressor_id) DO UPDATE SET {assign} "
        "WHERE (t.hour_start, t.updated_at) IS DISTINCT FROM (EXCLUDED.hour_start, EXCLUDED.updated_at)"
    ).format(
        cols=cols,
        l_cols=l_cols,
        h_cols=h_cols,
        assign=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in updatable),
    )
