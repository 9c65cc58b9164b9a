import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { APIRequestContext, BrowserContext, Page } from '@playwright/test';
import { ACCOUNTS, FRONTEND } from './env';
import { expect } from './fixtures';

export type AccountKey = keyof typeof ACCOUNTS;

/** Sign in through the real form, as a person would; lands on `next`. */
export async function signIn(page: Page, who: AccountKey, next = '/'): Promise<void> {
  const account = ACCOUNTS[who];
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  await page.getByTestId('sign-in-name').fill(account.name);
  await page.getByTestId('sign-in-password').fill(account.password);
  await page.getByTestId('sign-in-submit').click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(`${account.name} · ${account.role}`);
}

/** The CSRF token of the context's session: the readable altaviz_csrf cookie (double submit). */
export async function csrfToken(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'altaviz_csrf');
  expect(cookie, 'signed in: the altaviz_csrf cookie is set').toBeTruthy();
  return cookie!.value;
}

/** JSON sign-in over the API; returns the response. */
export function apiSignIn(request: APIRequestContext, name: string, password: string, baseURL = '') {
  return request.post(`${baseURL}/api/auth/sign-in`, { data: { name, password } });
}

/** A second dashboard (scripts/start.mjs, one process) with its own environment (short session TTL, Entra ID settings, ...). */
export async function startDashboard(env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [path.join(FRONTEND, 'scripts/start.mjs'), '-p', String(port), '-H', '127.0.0.1', '--workers', '1'], {
    cwd: FRONTEND, env: { ...env, NEXT_TELEMETRY_DISABLED: '1' }, stdio: 'ignore', detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: () => process.kill(-child.pid!, 'SIGTERM') };
}
