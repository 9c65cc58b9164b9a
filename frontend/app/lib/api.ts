import { NextResponse } from 'next/server';
import { z } from 'zod';
import { AuthConfigError } from './auth/config';
import { DatabaseUnavailableError, SchemaMissingError } from './db';
import { ConflictError, NotFoundError } from './mutations';
import { describeIssues, searchParamsToObject } from './validation';

/** The one error shape every API route returns: {"error": {"status": 400, "message": "..."}}. */
export function jsonError(status: number, message: string, headers?: Record<string, string>): NextResponse {
  return NextResponse.json({ error: { status, message } }, { status, headers: { 'cache-control': 'no-store', ...headers } });
}

export function json(body: unknown, init?: ResponseInit): NextResponse {
  return NextResponse.json(body, { ...init, headers: { 'cache-control': 'no-store', ...init?.headers } });
}

/** A body that is already JSON text. */
export function jsonText(body: string): NextResponse {
  return new NextResponse(body, { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

export class BadRequestError extends Error {}

/** Validate a query string against a schema; throws a 400-mapped error on failure. */
export function parseQuery<S extends z.ZodType>(schema: S, params: URLSearchParams): z.output<S> {
  const result = schema.safeParse(searchParamsToObject(params));
  if (!result.success) throw new BadRequestError(`invalid query: ${describeIssues(result.error)}`);
  return result.data;
}

export function parseParam<S extends z.ZodType>(schema: S, value: unknown, name: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequestError(`invalid ${name}: ${describeIssues(result.error)}`);
  return result.data;
}

export async function parseJsonBody<S extends z.ZodType>(schema: S, request: Request): Promise<z.output<S>> {
  if (!(request.headers.get('content-type') ?? '').includes('application/json')) {
    throw new BadRequestError('request body must be JSON (content-type: application/json)');
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new BadRequestError(`invalid body: ${describeIssues(result.error)}`);
  return result.data;
}

/** Wrap a route handler so every failure becomes the JSON error shape with the right status. */
export function handler<C>(fn: (request: Request, context: C) => Promise<Response>) {
  return async (request: Request, context: C): Promise<Response> => {
    try {
      return await fn(request, context);
    } catch (err) {
      if (err instanceof BadRequestError) return jsonError(400, err.message);
      if (err instanceof NotFoundError) return jsonError(404, err.message);
      if (err instanceof ConflictError) return jsonError(409, err.message);
      if (err instanceof DatabaseUnavailableError) return jsonError(503, err.message);
      if (err instanceof SchemaMissingError) return jsonError(503, 'the serving database has no schema yet: run the pipeline (altaviz run)');
      // A misconfigured AUTH_* setting: say which (the message never carries a secret's value).
      if (err instanceof AuthConfigError) return jsonError(500, err.message);
      const code = (err as { code?: string })?.code;
      // Data exceptions (class 22) are a bad value that slipped past validation: still the caller's fault.
      if (typeof code === 'string' && code.startsWith('22')) return jsonError(400, 'invalid parameter value');
      console.error('[api] unexpected error', err);
      return jsonError(500, 'internal error');
    }
  };
}

/**
 * 303 See Other to a path on this site. The Location stays relative: behind `next start -H` or a
 * proxy, request.url's host is not necessarily the one the browser used (and holds cookies for).
 */
export function redirectTo(path: string, headers?: Record<string, string>): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location: path, 'cache-control': 'no-store', ...headers } });
}
