import pg from 'pg';
import { connectionConfig } from '../scripts/db-config.mjs';
import { dashboardEnv } from './env';
import { expect, test } from './fixtures';

// app/lib/db.ts prepares each statement text once per connection. Run against a scratch database on
// the e2e server, through the module itself (no dashboard, no browser).

const DB = 'altaviz_e2e_prepared';
let db: typeof import('../app/lib/db');

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  const admin = new pg.Client(connectionConfig(dashboardEnv()));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const cfg = connectionConfig(dashboardEnv());
  process.env.DATABASE_URL = cfg.connectionString
    ? cfg.connectionString.replace(/^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${DB}`)
    : `postgresql://${cfg.user}@/${DB}?host=${cfg.host}&port=${cfg.port ?? 5432}`;
  db = await import('../app/lib/db');
  await db.query('CREATE TABLE prepared_probe (x int)');
  await db.query('INSERT INTO prepared_probe VALUES (1)');
});

test.afterAll(async () => {
  await db?.getPool().end();
  const admin = new pg.Client(connectionConfig(dashboardEnv()));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
});

test('a statement text runs as a prepared statement of its connection', async () => {
  const text = 'SELECT x FROM prepared_probe WHERE x >= $1';
  expect(await db.query(text, [0])).toEqual([{ x: 1 }]);
  // The pool hands the idle connection back for the next query (nothing else runs here).
  const prepared = await db.query<{ statement: string; parameter_types: string }>(
    'SELECT statement, parameter_types::text FROM pg_prepared_statements');
  expect(prepared).toContainEqual({ statement: text, parameter_types: '{integer}' });
});

test('a table whose columns changed under a prepared statement is read again, not an error', async () => {
  const text = 'SELECT * FROM prepared_probe';
  expect(await db.query(text)).toEqual([{ x: 1 }]);
  await db.query('ALTER TABLE prepared_probe ALTER COLUMN x TYPE text');
  // PostgreSQL refuses the prepared plan ("cached plan must not change result type"): the query runs again.
  expect(await db.query(text)).toEqual([{ x: '1' }]);
  expect(await db.query(text)).toEqual([{ x: '1' }]);
});
