/**
 * PostgreSQL's text form of a time as ISO 8601 with milliseconds (what `Date.toISOString` gives), for
 * JSON and client components. A UTC value ('2026-11-20 05:00:00', optionally '.123456', '+00' on a
 * timestamptz) is rewritten as a string: a 90-day chart reads hundreds of them, and parsing each through
 * Date cost more than the rest of its row. Anything else (another session time zone, years before
 * 1000, infinity) goes through Date as before.
 */
const PG_UTC = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?$/;

function iso(utc: string, original: string): string {
  const m = PG_UTC.exec(utc);
  if (!m) return new Date(original).toISOString();
  return `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

/** A timestamptz ('... +00' in a UTC session). */
export function isoFromTimestamptz(v: string): string {
  return iso(v.endsWith('+00') ? v.slice(0, -3) : '', v);
}

/** A timestamp without time zone, read as UTC. */
export function isoFromTimestamp(v: string): string {
  return iso(v, `${v}Z`);
}
