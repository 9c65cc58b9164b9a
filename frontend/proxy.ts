import { NextResponse, type NextRequest } from 'next/server';

/**
 * Malformed percent-encoding in a path (e.g. /api/alerts/%E0%A4%A) makes Next's router fail while
 * decoding route params, which surfaces as a bare 500. Answer it as the caller's error instead.
 */
export function proxy(request: NextRequest) {
  try {
    decodeURIComponent(request.nextUrl.pathname);
    return NextResponse.next();
  } catch {
    return NextResponse.json({ error: { status: 400, message: 'malformed percent-encoding in the URL path' } }, { status: 400 });
  }
}

export const config = { matcher: ['/api/:path*', '/monitoring/:path*', '/alerts/:path*'] };
