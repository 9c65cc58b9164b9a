import { handler, json } from '@/app/lib/api';
import { authConfig } from '@/app/lib/auth/config';
import { currentSession } from '@/app/lib/auth/session';

/** GET /api/auth/session: who is signed in (and the CSRF token their API calls must send), or nobody. */
export const GET = handler(async () => {
  const cfg = authConfig();
  const s = await currentSession();
  return json({
    signed_in: Boolean(s),
    account: s?.account ?? null,
    role: s?.role ?? null,
    csrf_token: s?.csrfToken ?? null,
    expires_at: s?.expiresAt ?? null,
    providers: { local: cfg.localAccounts, entra: Boolean(cfg.entra) },
  });
});
