import fs from 'node:fs';
import { SERVER_PID_FILE, USES_PIPELINE } from './env';
import { stopEmbeddedPostgres } from './pipeline';

export default async function globalTeardown(): Promise<void> {
  if (process.env.E2E_BASE_URL) return;
  if (fs.existsSync(SERVER_PID_FILE)) {
    const pid = Number(fs.readFileSync(SERVER_PID_FILE, 'utf8'));
    try {
      process.kill(-pid, 'SIGTERM'); // the server's own process group (spawned detached)
    } catch {
      /* already gone */
    }
    fs.rmSync(SERVER_PID_FILE, { force: true });
  }
  // Leave the data for inspection, but not a running PostgreSQL.
  if (USES_PIPELINE && process.env.E2E_KEEP_DB !== '1') stopEmbeddedPostgres();
}
