import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { isoFromTimestamp, isoFromTimestamptz } from './pg-time';

/**
 * Connection to the serving database.
 *
 * DATABASE_URL wins; otherwise the embedded PostgreSQL that the pipeline started is described in
 * `<ALTAVIZ_HOME>/state/database.json` (default ALTAVIZ_HOME: the repo's `.altaviz`, i.e.
 * `../.altaviz` from frontend/). The file is re-read when it changes, so a pipeline run that
 * restarts its PostgreSQL elsewhere is picked up without restarting the dashboard.
 */

export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** The schema is not there yet: the pipeline has never published to this database. */
export class SchemaMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaMissingError';
  }
}

const StateFile = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().positive().default(5432),
  user: z.string().min(1).default('postgres'),
  database: z.string().min(1).default('postgres'),
  password: z.string().optional(),
});

export function altavizHome(): string {
  return process.env.ALTAVIZ_HOME ? path.resolve(process.env.ALTAVIZ_HOME) : path.resolve(process.cwd(), '..', '.altaviz');
}

export function stateFilePath(): string {
  return path.join(altavizHome(), 'state', 'database.json');
}

function resolveConfig(): pg.PoolConfig {
  if (process.env.DATABASE_URL) return { connectionString: process.env.DATABASE_URL };
  const file = stateFilePath();
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    throw new DatabaseUnavailableError(
      `No serving database configured: ${file} does not exist. Run the pipeline (altaviz run) or set DATABASE_URL.`,
    );
  }
  const parsed = StateFile.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new DatabaseUnavailableError(`${file} is not a valid database description.`);
  // Use the fields, not the URL: node-postgres treats a host starting with '/' as a Unix-socket directory.
  const { host, port, user, database, password } = parsed.data;
  return { host, port, user, database, password };
}

// Timestamps travel as ISO strings (JSON- and client-component-safe); counts as numbers.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    switch (oid) {
      case 20: // int8: COUNT(*) and BIGINT row counts, far below 2^53
      case 1700: // numeric
        return (v: string) => Number(v);
      case 1184: // timestamptz
        return isoFromTimestamptz;
      case 1114: // timestamp (UTC by convention)
        return isoFromTimestamp;
      case 1082: // date: keep 'YYYY-MM-DD', no time-zone shift
        return (v: string) => v;
      default:
        return pg.types.getTypeParser(oid, format);
    }
  },
} as pg.CustomTypesConfig;

type PoolHolder = { key: string; pool: pg.Pool };
const holder = globalThis as unknown as { __altavizPool?: PoolHolder };

export function getPool(): pg.Pool {
  const config = resolveConfig();
  const key = JSON.stringify(config);
  if (holder.__altavizPool?.key === key) return holder.__altavizPool.pool;
  holder.__altavizPool?.pool.end().catch(() => undefined);
  const pool = new pg.Pool({
    ...config,
    types,
    max: Number(process.env.PG_POOL_MAX ?? 8),
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    application_name: 'altaviz-dashboard',
  });
  // An idle client losing its server (pipeline restarting PostgreSQL) must not crash the process.
  pool.on('error', (err) => console.warn('[db] idle client error:', err.message));
  holder.__altavizPool = { key, pool };
  return pool;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EPIPE',
  '57P01', '57P02', '57P03', // admin/crash shutdown, cannot connect now
  '53300', // too many connections
  '3D000', // database does not exist
  '28000', '28P01', // authentication
]);

function translate(err: unknown): Error {
  if (err instanceof DatabaseUnavailableError) return err;
  const e = err as { code?: string; message?: string };
  if (e?.code === '42P01') return new SchemaMissingError(e.message ?? 'relation does not exist');
  if ((e?.code && UNAVAILABLE_CODES.has(e.code)) || /timeout|terminated|Connection terminated/i.test(e?.message ?? '')) {
    return new DatabaseUnavailableError(`Serving database unreachable: ${e?.message ?? e?.code}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

// Each statement text is prepared once per connection (node-postgres sends a named Parse the first
// time only): parsing and planning a page's queries cost PostgreSQL more CPU than running them, and
// after five runs it keeps a generic plan. Texts are finite (values travel as parameters).
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    if (statementNames.size >= 2000) statementNames.clear(); // a guard; the dashboard has far fewer texts
    name = `altaviz_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

// A table whose columns changed under a prepared statement (a schema upgrade while the dashboard
// runs): that connection is dropped and the statement runs once more on a fresh one.
const STALE_PLAN = '0A000';

/** Run one parameterized statement. Values only ever travel as $n parameters. */
export async function query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const pool = getPool();
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw translate(err);
  }
  let broken: Error | undefined;
  try {
    return (await client.query<R>({ name: statementName(text), text, values })).rows;
  } catch (err) {
    if ((err as { code?: string }).code !== STALE_PLAN) throw translate(err);
    broken = err as Error;
    try {
      return (await pool.query<R>(text, values)).rows;
    } catch (again) {
      throw translate(again);
    }
  } finally {
    client.release(broken);
  }
}

/** Run `fn` inside one transaction on one client. */
export async function transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await getPool().connect();
  } catch (err) {
    throw translate(err);
  }
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw translate(err);
  } finally {
    client.release();
  }
}

export type DatabaseStatus = { ok: true } | { ok: false; reason: string };

export async function pingDatabase(): Promise<DatabaseStatus> {
  try {
    await query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
