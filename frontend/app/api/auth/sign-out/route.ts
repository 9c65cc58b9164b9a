import { NextResponse } from 'next/server';
import { handler, jsonError, redirectTo } from '@/app/lib/api';
import { crossSiteReason } from '@/app/lib/auth/csrf';
import { clearSessionCookies, endSession } from '@/app/lib/auth/session';

/** POST /api/auth/sign-out: ends the session in the database (not just the cookie), then goes home. */
export const POST = handler(async (request) => {
  const crossSite = crossSiteReason(request);
  if (crossSite) return jsonError(403, crossSite);
  await endSession();
  await clearSessionCookies();
  if ((request.headers.get('content-type') ?? '').includes('application/json')) return new NextResponse(null, { status: 204 });
  return redirectTo('/');
});
