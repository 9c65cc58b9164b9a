import { cookies } from 'next/headers';
import { z } from 'zod';
import { handler, jsonError, redirectTo } from '@/app/lib/api';
import { authConfig } from '@/app/lib/auth/config';
import { completeSignIn, EntraAccessError } from '@/app/lib/auth/entra';
import { createSession, setSessionCookies } from '@/app/lib/auth/session';

const PENDING_COOKIE = 'altaviz_oidc';
const Pending = z.object({ state: z.string(), nonce: z.string(), verifier: z.string(), next: z.string() });

/** GET /api/auth/entra/callback?code=…&state=…: Entra ID's answer; signs the person in. */
export const GET = handler(async (request) => {
  const entra = authConfig().entra;
  if (!entra) return jsonError(404, 'Microsoft Entra ID sign-in is not configured (AUTH_ENTRA_*)');
  const url = new URL(request.url);
  const back = (code: string) => redirectTo(`/sign-in?error=${code}`);
  const jar = await cookies();
  const raw = jar.get(PENDING_COOKIE)?.value;
  jar.delete({ name: PENDING_COOKIE, path: '/api/auth/entra' });
  if (url.searchParams.get('error')) return back('entra_refused');
  let pending: z.infer<typeof Pending>;
  try {
    pending = Pending.parse(JSON.parse(Buffer.from(raw ?? '', 'base64url').toString('utf8')));
  } catch {
    return back('entra_expired'); // no sign-in of ours is under way in this browser
  }
  if (url.searchParams.get('state') !== pending.state) return back('entra_expired');
  try {
    const signedIn = await completeSignIn(entra, url, pending);
    await setSessionCookies(await createSession(signedIn.accountId));
    return redirectTo(pending.next);
  } catch (err) {
    if (err instanceof EntraAccessError) return back('entra_no_role');
    console.error('[auth] Entra ID sign-in failed:', err instanceof Error ? err.message : err);
    return back('entra_failed');
  }
});
