import { query } from '../db';
import { authConfig, type Role } from './config';
import { dummyHash, verifyPassword } from './password';

export type SignInResult =
  | { ok: true; accountId: number; account: string; role: Role }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/**
 * Password sign-in with rate limiting kept in the database (auth_failed_sign_ins), so it holds across
 * every dashboard process: at most AUTH_MAX_FAILED_SIGN_INS failures per account name and client
 * address, and AUTH_MAX_FAILED_SIGN_INS_PER_ACCOUNT from all addresses, per window. Once over, the
 * password is not even checked until the oldest failure leaves the window.
 */
export async function signInWithPassword(name: string, password: string, clientIp: string): Promise<SignInResult> {
  const cfg = authConfig();
  const [counts] = await query<{ pair: number; account: number; pair_oldest: string | null; account_oldest: string | null }>(
    `SELECT COUNT(*) FILTER (WHERE client_ip = $2)::int AS pair, COUNT(*)::int AS account,
            MIN(failed_at) FILTER (WHERE client_ip = $2) AS pair_oldest, MIN(failed_at) AS account_oldest
       FROM auth_failed_sign_ins
      WHERE account_name = $1 AND failed_at > now() - make_interval(secs => $3)`,
    [name, clientIp, cfg.failedSignInWindowSeconds],
  );
  const limited = counts!.pair >= cfg.maxFailedSignIns ? counts!.pair_oldest : counts!.account >= cfg.maxFailedSignInsPerAccount ? counts!.account_oldest : null;
  if (limited) {
    const retry = Math.ceil((new Date(limited).getTime() + cfg.failedSignInWindowSeconds * 1000 - Date.now()) / 1000);
    return { ok: false, reason: 'rate_limited', retryAfterSeconds: Math.max(1, retry) };
  }
  const rows = await query<{ account_id: number; account_name: string; role: Role; password_hash: string | null }>(
    `SELECT account_id, account_name, role, password_hash FROM accounts WHERE account_name = $1 AND provider = 'local'`,
    [name],
  );
  const account = rows[0];
  const matches = await verifyPassword(password, account?.password_hash ?? (await dummyHash()));
  if (!account || !matches) {
    await query(`INSERT INTO auth_failed_sign_ins (account_name, client_ip) VALUES ($1, $2)`, [name, clientIp]);
    // Rows older than any window still counts are dead weight.
    await query(`DELETE FROM auth_failed_sign_ins WHERE failed_at < now() - make_interval(secs => $1)`, [cfg.failedSignInWindowSeconds]);
    return { ok: false, reason: 'invalid' };
  }
  await query(`DELETE FROM auth_failed_sign_ins WHERE account_name = $1 AND client_ip = $2`, [name, clientIp]);
  await query(`UPDATE accounts SET last_sign_in_at = now() WHERE account_id = $1`, [account.account_id]);
  return { ok: true, accountId: Number(account.account_id), account: account.account_name, role: account.role };
}

/** A local path to return to after sign-in; anything else (another site, //host, \\host) becomes '/'. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 2000) return '/';
  if (next.startsWith('/api/') || next.startsWith('/sign-in')) return '/';
  return next;
}
