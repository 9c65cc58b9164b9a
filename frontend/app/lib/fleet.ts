import { cache } from 'react';
import { fetchFleetSnapshot } from './data';

/** The whole fleet, fetched once per request however many widgets on the page need it. */
export const fetchFleet = cache(() => fetchFleetSnapshot());

/** Minutes after which the newest reading counts as stale (altaviz.yaml windows.freshness_warning_minutes). */
export const FRESHNESS_WARNING_MINUTES = Number(process.env.FRESHNESS_WARNING_MINUTES ?? 60);
