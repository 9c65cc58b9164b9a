import path from 'node:path';
import { FRONTEND_DIR, REPO_DIR } from '../scripts/db-config.mjs';

/**
 * How the suite reaches its dashboard and database:
 * - default: run `<repo>/.venv/bin/altaviz run` with ALTAVIZ_HOME=<repo>/.altaviz/e2e (its own lakehouse and
 *   embedded PostgreSQL), then serve the built dashboard against it;
 * - E2E_DATABASE_URL: skip the pipeline and serve against that database (development only; the
 *   pipeline-rerun test is skipped);
 * - E2E_BASE_URL: use a dashboard that is already running (with E2E_DATABASE_URL or E2E_ALTAVIZ_HOME for DB checks).
 */
export const REPO = REPO_DIR;
export const FRONTEND = FRONTEND_DIR;
export const ALTAVIZ_HOME = path.resolve(process.env.E2E_ALTAVIZ_HOME ?? path.join(REPO_DIR, '.altaviz', 'e2e'));
export const ALTAVIZ_BIN = process.env.ALTAVIZ_BIN ?? path.join(REPO_DIR, '.venv', 'bin', 'altaviz');
export const USES_PIPELINE = !process.env.E2E_DATABASE_URL;
export const SCREENSHOT_DIR = path.join(FRONTEND_DIR, 'test-results', 'screenshots');
export const SERVER_PID_FILE = path.join(FRONTEND_DIR, 'test-results', '.e2e-server.pid');

/** Environment for the dashboard and for direct database checks. */
export function dashboardEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ALTAVIZ_HOME, NEXT_TELEMETRY_DISABLED: '1' };
  delete env.DATABASE_URL;
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;
  return env;
}

/** Accounts global setup creates with the real CLI (`altaviz users add … --password-stdin`). */
export const ACCOUNTS = {
  operator: { name: 'e2e.operator', password: 'e2e-operator-password-1', role: 'operator' },
  viewer: { name: 'e2e.viewer', password: 'e2e-viewer-password-1', role: 'viewer' },
  // Only ever failed against, for the rate-limit test (its own account, so no other test is locked out).
  target: { name: 'e2e.ratelimit', password: 'e2e-ratelimit-password-1', role: 'operator' },
} as const;

/** Environment for the CLI: the suite's database (E2E_DATABASE_URL) or its embedded PostgreSQL. */
export function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ALTAVIZ_HOME, DATABASE_URL: process.env.E2E_DATABASE_URL ?? '' };
}
