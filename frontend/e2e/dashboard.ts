import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { FRONTEND } from './env';

/** A dashboard (scripts/start.mjs, one process) of the production build with its own environment (own database), on a free port. */
export async function startDashboard(env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const child: ChildProcess = spawn(process.execPath, [path.join(FRONTEND, 'scripts/start.mjs'), '-p', String(port), '-H', '127.0.0.1', '--workers', '1'], {
    cwd: FRONTEND, env: { ...env, NEXT_TELEMETRY_DISABLED: '1' }, stdio: 'ignore', detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${url}/api/health`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url, stop: () => process.kill(-child.pid!, 'SIGTERM') };
}
