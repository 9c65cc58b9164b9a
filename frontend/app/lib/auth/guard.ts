import { jsonError } from '../api';
import { crossSiteReason } from './csrf';
import { CSRF_HEADER, currentSession, sameToken, type Session } from './session';

/**
 * The gate in front of every state-changing API route: a signed-in operator (401 when nobody is
 * signed in, 403 for a viewer), a same-origin request, and the session's CSRF token in X-CSRF-Token.
 */
export async function requireOperator(request: Request): Promise<{ session: Session } | { refused: Response }> {
  const crossSite = crossSiteReason(request);
  if (crossSite) return { refused: jsonError(403, crossSite) };
  const session = await currentSession();
  if (!session) return { refused: jsonError(401, 'sign in first (POST /api/auth/sign-in)', { 'www-authenticate': 'Cookie realm="altaviz"' }) };
  if (session.role !== 'operator') return { refused: jsonError(403, `${session.account} is a viewer: only operators act on alerts`) };
  if (!sameToken(request.headers.get(CSRF_HEADER), session.csrfToken)) {
    return { refused: jsonError(403, `missing or wrong ${CSRF_HEADER} header (the altaviz_csrf cookie, or csrf_token from GET /api/auth/session)`) };
  }
  return { session };
}
