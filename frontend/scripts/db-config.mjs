// Connection settings for the scripts, resolved like app/lib/db.ts: DATABASE_URL, else
// <ALTAVIZ_HOME>/state/database.json (ALTAVIZ_HOME defaults to ../.altaviz from frontend/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(FRONTEND_DIR, '..');

export function connectionConfig(env = process.env) {
  if (env.DATABASE_URL) return { connectionString: env.DATABASE_URL };
  const home = env.ALTAVIZ_HOME ? path.resolve(env.ALTAVIZ_HOME) : path.join(REPO_DIR, '.altaviz');
  const file = path.join(home, 'state', 'database.json');
  if (!fs.existsSync(file)) throw new Error(`no DATABASE_URL and no ${file}: run the pipeline or set DATABASE_URL`);
  const { host, port = 5432, user = 'postgres', database = 'postgres', password } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { host, port, user, database, password };
}

export function schemaSql() {
  return fs.readFileSync(path.join(REPO_DIR, 'sql', 'postgres', '001_schema.sql'), 'utf8');
}

/** What 05_publish's refresh leaves in latest_readings (each unit's newest hourly row), for seeded databases. */
export const REFRESH_LATEST_READINGS = `DELETE FROM latest_readings;
INSERT INTO latest_readings
SELECT l.* FROM compressors c CROSS JOIN LATERAL (
  SELECT * FROM hourly_readings h WHERE h.compressor_id = c.compressor_id ORDER BY h.hour_start DESC LIMIT 1) l;`;
