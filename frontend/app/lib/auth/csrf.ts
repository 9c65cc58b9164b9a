import { authConfig } from './config';

/**
 * Cross-site request forgery checks for state-changing requests (sign-in, sign-out, operator actions):
 * a browser always sends Origin on a cross-site POST, and Sec-Fetch-Site when it has no Origin to give.
 * A request without either is not a browser's, so there is no victim's cookie to ride on; operator
 * actions over the API also need the session's CSRF token in X-CSRF-Token, which another site cannot read.
 */

/** The origin this dashboard is served at: AUTH_ORIGIN, else the one the request was addressed to. */
export function expectedOrigin(request: Request): string {
  const configured = authConfig().origin;
  if (configured) return configured;
  const url = new URL(request.url);
  // Next fills these from the socket when no proxy did; behind one they carry the public address.
  const proto = (request.headers.get('x-forwarded-proto') ?? url.protocol.replace(':', '')).split(',')[0]!.trim();
  const host = (request.headers.get('x-forwarded-host') ?? request.headers.get('host') ?? url.host).split(',')[0]!.trim();
  return `${proto}://${host}`;
}

/** Null when the request may change state, else why not. */
export function crossSiteReason(request: Request): string | null {
  const origin = request.headers.get('origin');
  if (origin !== null) {
    return origin === expectedOrigin(request) ? null : `cross-origin request refused (Origin ${origin})`;
  }
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return `cross-site request refused (Sec-Fetch-Site ${site})`;
  return null;
}

/**
 * The client address failed sign-ins are counted under: the right-most X-Forwarded-For entry, which
 * Next sets from the socket when the request came directly, and which a reverse proxy (App Service,
 * Front Door) appends. A client talking directly could forge it, so a per-account cap backs it up.
 */
export function clientAddress(request: Request): string {
  const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return (forwarded.at(-1) ?? 'unknown').slice(0, 64);
}
