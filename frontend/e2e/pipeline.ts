import { spawnSync } from 'node:child_process';
import { ALTAVIZ_BIN, ALTAVIZ_HOME, REPO } from './env';

/**
 * Run the real pipeline (all five notebooks, publish included) into the suite's own ALTAVIZ_HOME.
 * Returns the terminal output: on a fresh state folder it holds the first operator's password.
 */
export function runPipeline(): string {
  const started = Date.now();
  const result = spawnSync(ALTAVIZ_BIN, ['run'], {
    cwd: REPO, // the CLI resolves pipelines/ and notebooks/ relative to the repository root
    env: { ...process.env, ALTAVIZ_HOME, DATABASE_URL: '' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 45 * 60_000, // a run takes ~5-15 min on 2 cores depending on what else runs
  });
  if (result.status !== 0) {
    throw new Error(`altaviz run failed (exit ${result.status ?? result.signal}):\n${(result.stdout ?? '').slice(-4000)}\n${(result.stderr ?? '').slice(-4000)}`);
  }
  console.log(`[e2e] altaviz run finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return result.stdout;
}

/** Create (or reset the password of) a local dashboard account through the real CLI. */
export function ensureAccount(name: string, role: 'operator' | 'viewer', password: string, env: NodeJS.ProcessEnv): void {
  const run = (args: string[]) => spawnSync(ALTAVIZ_BIN, ['users', ...args, '--password-stdin', '--home', ALTAVIZ_HOME], {
    cwd: REPO, env, input: `${password}\n`, encoding: 'utf8', timeout: 120_000,
  });
  let result = run(['add', name, '--role', role]);
  if (result.status !== 0 && /already exists/.test(result.stdout)) result = run(['set-password', name]);
  if (result.status !== 0) throw new Error(`altaviz users add ${name} failed: ${result.stdout}${result.stderr}`);
}

export function stopEmbeddedPostgres(): void {
  spawnSync(ALTAVIZ_BIN, ['db', 'stop', '--home', ALTAVIZ_HOME], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
}

/** Start (or attach to) the suite's embedded PostgreSQL without running the pipeline. */
export function startEmbeddedPostgres(): void {
  const result = spawnSync(ALTAVIZ_BIN, ['db', 'start', '--home', ALTAVIZ_HOME], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`altaviz db start failed: ${result.stderr}`);
}
