"""PostgreSQL serving target: DDL from sql/postgres, COPY into a staging table, then one upsert."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from importlib import resources

import psycopg
from psycopg import sql

log = logging.getLogger("altaviz.publish")


def ddl_text() -> str:
    """The PostgreSQL schema shipped inside the wheel (copied from the repository's sql/ folder)."""
    folder = resources.files("altaviz").joinpath("sql/postgres")
    return "\n".join(
        f.read_text(encoding="utf-8") for f in sorted(folder.iterdir(), key=lambda p: p.name) if f.name.endswith(".sql")
    )


class PostgresDatabase:
    def __init__(self, url: str) -> None:
        self._url = url
        # Autocommit outside explicit transaction() blocks, so each upsert is its own transaction.
        self._conn = psycopg.connect(url, autocommit=True)

    def describe(self) -> str:
        info = self._conn.info
        return f"postgresql://{info.user}@{info.host or 'localhost'}/{info.dbname}"

    def apply_schema(self) -> None:
        with self._conn.transaction():
            self._conn.execute(ddl_text())

    def upsert(
        self,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        rows: Iterable[Sequence[object]],
        touch_updated_at: bool,
    ) -> int:
        """Bulk-loads ``rows`` and upserts them; rows identical to what is stored are left untouched.

        Only ``columns`` are written, so columns owned by people (alert status, notes) survive.
        Returns the number of rows inserted or changed.
        """
        stage = sql.Identifier(f"_stage_{table}")
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
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                    stage, sql.Identifier(table)
                )
            )
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, cols)) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
                    sql.Identifier(table), cols, cols, stage, sql.SQL(", ").join(map(sql.Identifier, key)), conflict
                )
            )
            return cur.rowcount

    def close(self) -> None:
        self._conn.close()
