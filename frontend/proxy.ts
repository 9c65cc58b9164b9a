import { NextResponse, type NextRequest } from 'next/server';
import { authConfig } from './app/lib/auth/config';
import { expectedOrigin } from './app/lib/auth/csrf';
import { SESSION_COOKIE, sessionFromToken } from './app/lib/auth/session';

// Reachable without an account even with AUTH_REQUIRE_SIGN_IN=on: signing in, and the health probe.
const OPEN = /^\/(?:sign-in$|api\/auth\/|api\/health$)/;

/**
 * Malformed percent-encoding in a path (e.g. /api/alerts/%E0%A4%A) makes Next's router fail while
 * decoding route params, which surfaces as a bare 500. Answer it as the caller's error instead.
 *
 * With AUTH_REQUIRE_SIGN_IN=on, nobody reads the dashboard without a live session: pages send the
 * browser to /sign-in, API routes answer 401. (Proxy runs on the Node.js runtime, so it can ask the
 * database.) A database that cannot answer lets the request through, to say so itself.
 */
export async function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  try {
    decodeURIComponent(pathname);
  } catch {
    return NextResponse.json({ error: { status: 400, message: 'malformed percent-encoding in the URL path' } }, { status: 400 });
  }
  if (authConfig().requireSignIn && !OPEN.test(pathname)) {
    const session = await sessionFromToken(request.cookies.get(SESSION_COOKIE)?.value).catch(() => undefined);
    if (session === null) {
      if (pathname.startsWith('/api/')) {
        return NextResponse.json({ error: { status: 401, message: 'sign in first (POST /api/auth/sign-in)' } }, { status: 401 });
      }
      // Proxy wants an absolute Location: the host the browser used (request.url may name another).
      const to = new URL(`/sign-in?next=${encodeURIComponent(pathname + search)}`, expectedOrigin(request));
      return NextResponse.redirect(to, 307);
    }
  }
  return NextResponse.next();
}

export const config = { matcher: ['/((?!_next/|icon.svg).*)'] };
