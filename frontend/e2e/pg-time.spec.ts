import { test, expect } from '@playwright/test';
import { isoFromTimestamp, isoFromTimestamptz } from '../app/lib/pg-time';

// PostgreSQL's text timestamps as the ISO strings the API and the pages serve: the string fast path must
// give exactly what parsing through Date gives. Pure functions, no browser, no server.

test('a UTC timestamptz, with or without a fraction, reads as Date would read it', () => {
  for (const v of ['2026-11-20 05:00:00+00', '2026-11-20 05:00:00.5+00', '2026-11-20 05:00:00.123456+00',
    '2026-02-28 23:59:59.999999+00', '1999-12-31 00:00:00.01+00']) {
    expect(isoFromTimestamptz(v)).toBe(new Date(v).toISOString());
  }
  expect(isoFromTimestamptz('2026-11-20 05:00:00.123456+00')).toBe('2026-11-20T05:00:00.123Z');
});

test('another session time zone and odd values still go through Date', () => {
  expect(isoFromTimestamptz('2026-11-20 05:00:00-06')).toBe('2026-11-20T11:00:00.000Z');
  expect(isoFromTimestamptz('2026-11-20 05:00:00+05:30')).toBe('2026-11-19T23:30:00.000Z');
  expect(() => isoFromTimestamptz('infinity')).toThrow(RangeError); // as before: not a time the dashboard stores
});

test('a timestamp without time zone is read as UTC', () => {
  expect(isoFromTimestamp('2026-11-20 05:00:00')).toBe('2026-11-20T05:00:00.000Z');
  expect(isoFromTimestamp('2026-11-20 05:00:00.25')).toBe('2026-11-20T05:00:00.250Z');
});
