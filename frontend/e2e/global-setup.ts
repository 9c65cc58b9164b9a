import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ACCOUNTS, ALTAVIZ_BIN, ALTAVIZ_HOME, cliEnv, dashboardEnv, FRONTEND, SERVER_PID_FILE, USES_PIPELINE } from './env';
import { ensureAccount, runPipeline, startEmbeddedPostgres, stopEmbeddedPostgres } from './pipeline';

export default async function globalSetup(): Promise<void> {
  if (process.env.E2E_BASE_URL) return; // a dashboard is already running
  if (!fs.existsSync(path.join(FRONTEND, '.next', 'BUILD_ID'))) {
    throw new Error('No production build: run `npm run build` before `npm test`.');
  }
  if (USES_PIPELINE) {
    if (!fs.existsSync(ALTAVIZ_BIN)) throw new Error(`${ALTAVIZ_BIN} not found: install the pipeline (.venv) first.`);
    if (process.env.E2E_REUSE_PIPELINE !== '1') {
      // A fresh home every run: the tests acknowledge alerts, and a leftover acknowledgement would hide a regression.
      stopEmbeddedPostgres();
      fs.rmSync(ALTAVIZ_HOME, { recursive: true, force: true });
      const output = runPipeline();
      // The first run creates the account `operator` and prints its password once; tests sign in with it.
      const first = /account operator \(operator\), password (\S+)/.exec(output);
      if (!first) throw new Error(`altaviz run on a fresh state folder printed no first operator account:\n${output.slice(-2000)}`);
      process.env.E2E_FIRST_OPERATOR_PASSWORD = first[1]; // inherited by the test workers
    } else {
      startEmbeddedPostgres(); // teardown stopped it after the last run
    }
  }
  for (const a of Object.values(ACCOUNTS)) ensureAccount(a.name, a.role, a.password, cliEnv());
  const port = process.env.E2E_PORT!;
  fs.mkdirSync(path.dirname(SERVER_PID_FILE), { recursive: true });
  const log = fs.openSync(path.join(FRONTEND, 'test-results', 'next-server.log'), 'w');
  // What production runs (`npm start`): scripts/start.mjs, one Next.js worker per core behind the cluster
  // primary, with its response cache, so the suite also covers cross-worker freshness.
  const server = spawn(process.execPath, [path.join(FRONTEND, 'scripts', 'start.mjs'), '-p', port, '-H', '127.0.0.1'], {
    cwd: FRONTEND,
    env: dashboardEnv(),
    detached: true, // own process group, so teardown can end it and nothing else
    stdio: ['ignore', log, log],
  });
  server.unref();
  fs.writeFileSync(SERVER_PID_FILE, String(server.pid));
  await waitForHealthy(`http://127.0.0.1:${port}/api/health`, 60_000);
}

async function waitForHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`dashboard did not become healthy at ${url}: ${last}`);
}
