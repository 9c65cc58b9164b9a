import { z } from 'zod';

/**
 * Boundary validation for URL params, query strings and request bodies. Anything that fails here
 * is answered with a 4xx and a message; nothing unvalidated reaches SQL (which is parameterized anyway).
 */

export const compressorIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'compressor id must be 1-32 letters, digits, "-" or "_" (e.g. COMP-003)');

export const stationIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'station id must be 1-32 letters, digits, "-" or "_" (e.g. STN-001)');

export const alertIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_:.+-]{0,63}$/, 'alert id must be 1-64 letters, digits or "_:.+-"');

const MIN_DATE = Date.UTC(2000, 0, 1);
const MAX_DATE = Date.UTC(2100, 0, 1);
/** The longest window one request may ask for: a year of hourly rows per compressor. */
export const MAX_RANGE_DAYS = 366;

// Strict ISO 8601: a date, or a date-time with optional seconds/fraction and optional zone (UTC if absent).
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export const isoDateSchema = z
  .string()
  .trim()
  .regex(ISO, 'must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T06:00:00Z')
  .transform((s, ctx) => {
    // Date() silently rolls 2026-02-31 over to March: check the calendar part on its own.
    const [y, m, day] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
    const cal = new Date(Date.UTC(y, m - 1, day));
    const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(s.slice(10));
    const d = new Date(s.length === 10 || hasZone ? s : `${s.replace(' ', 'T')}Z`);
    const t = d.getTime();
    if (Number.isNaN(t) || cal.getUTCMonth() !== m - 1 || cal.getUTCDate() !== day) {
      ctx.addIssue({ code: 'custom', message: 'is not a real calendar date' });
      return z.NEVER;
    }
    if (t < MIN_DATE || t >= MAX_DATE) {
      ctx.addIssue({ code: 'custom', message: 'must fall between 2000-01-01 and 2100-01-01' });
      return z.NEVER;
    }
    return d;
  });

/** An upper bound: a bare date means "through the end of that day", so the filter is inclusive. */
export const isoDateEndSchema = z.preprocess((v) => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v.trim())) return v;
  const [y, m, d] = v.trim().split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return v; // let isoDateSchema reject it
  return new Date(day.getTime() + 86_400_000).toISOString();
}, isoDateSchema);

export const RANGE_PRESETS = { '24h': 24, '3d': 72, '7d': 168, '30d': 720, '90d': 2160 } as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export const rangePresetSchema = z.enum(Object.keys(RANGE_PRESETS) as [RangePreset, ...RangePreset[]]);

/** from/to or a preset anchored at the newest reading; checked for order and size. */
export const readingsQuerySchema = z
  .object({
    range: rangePresetSchema.optional(),
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
    // Most buckets the caller can draw (about its width in pixels): longer ranges are downsampled.
    points: z.coerce.number().int().min(10).max(5000).default(600),
    // rows: one object per bucket (every column); series: what the detail page's charts draw, columnar.
    format: z.enum(['rows', 'series']).default('rows'),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.range && (q.from || q.to)) ctx.addIssue({ code: 'custom', message: 'give either range or from/to, not both' });
    if (q.from && q.to) {
      if (q.from >= q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
      else if (q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * 86_400_000)
        ctx.addIssue({ code: 'custom', path: ['to'], message: `range must not exceed ${MAX_RANGE_DAYS} days` });
    }
  });
export type ReadingsQuery = z.infer<typeof readingsQuerySchema>;

export const severitySchema = z.enum(['warning', 'critical']);
export const alertStatusSchema = z.enum(['open', 'acknowledged', 'resolved']);

export const alertFiltersSchema = z
  .object({
    severity: severitySchema.optional(),
    status: alertStatusSchema.optional(),
    compressor: compressorIdSchema.optional(),
    station: stationIdSchema.optional(),
    active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    from: isoDateSchema.optional(),
    to: isoDateEndSchema.optional(),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    page_size: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict()
  .refine((f) => !(f.from && f.to) || f.from < f.to, { message: 'from must be before to', path: ['from'] });
export type AlertFilters = z.infer<typeof alertFiltersSchema>;

/** Sort orders of the fleet list; `worst` (critical, warning, no data, healthy; then most alerts) is the default; `risk` is the model's failure probability. */
export const FLEET_SORTS = ['worst', 'id', 'alerts', 'vibration', 'temp', 'risk'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

const facetText = (what: string) =>
  z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 ./'()_-]{0,63}$/, `${what} must be 1-64 letters, digits, spaces or ./'()_-`);

/** Search, filters, sort and page of the fleet list (API, monitoring page and overview cards). */
export const fleetQuerySchema = z
  .object({
    // Matched as a plain substring (LIKE wildcards are escaped in SQL).
    q: z.string().trim().max(64, 'search must be at most 64 characters')
      .regex(/^[^\u0000-\u001F\u007F]*$/, 'search must not contain control characters').optional(),
    station: stationIdSchema.optional(),
    basin: facetText('basin').optional(),
    model: facetText('model').optional(),
    health: z.enum(['normal', 'warning', 'critical', 'down', 'unknown']).optional(),
    sort: z.enum(FLEET_SORTS).default('worst'),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
    page_size: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .strict();
export type FleetQuery = z.infer<typeof fleetQuerySchema>;

/** A page's fleet query from its URL; a hand-edited bad value shows the whole fleet instead of an error page. */
export function pageFleetQuery(
  params: Record<string, string | string[] | undefined>,
  pageSize: number,
): { query: FleetQuery; invalid: boolean } {
  const parsed = fleetQuerySchema.safeParse({ page_size: String(pageSize), ...searchParamsToObject(params) });
  return parsed.success
    ? { query: parsed.data, invalid: false }
    : { query: fleetQuerySchema.parse({ page_size: String(pageSize) }), invalid: true };
}

export const qualityQuerySchema = z.object({ runs: z.coerce.number().int().min(1).max(500).default(30) }).strict();

// Printable text only: no control characters in names and notes that end up in an audit trail.
const printable = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/, 'must not contain control characters');

// No actor: who acted is the signed-in account, never something the request says.
export const alertActionSchema = z
  .object({
    action: z.enum(['acknowledge', 'resolve', 'reopen', 'note']),
    note: printable(2000).optional().transform((v) => (v ? v : undefined)),
  })
  .strict()
  .refine((a) => a.action === 'acknowledge' || Boolean(a.note), {
    message: 'a note is required to resolve, reopen or annotate an alert',
    path: ['note'],
  });
export type AlertActionInput = z.infer<typeof alertActionSchema>;

/** Turn URLSearchParams (or Next's searchParams object) into a plain object, rejecting repeated keys. */
export function searchParamsToObject(
  params: URLSearchParams | Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const entries = params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params);
  for (const [k, v] of entries) {
    if (v === undefined || v === '') continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
  }
  return out;
}

/** One readable line from a zod error: "from: must be an ISO 8601 date ...; page: ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
