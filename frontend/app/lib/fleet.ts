import { cache } from 'react';
import { fetchFleetHealth, fetchStations } from './data';

/** Health per station, fetched once per request however many widgets (KPIs, map) need it. */
export const fetchFleetHealthOnce = cache(() => fetchFleetHealth());
export const fetchStationsOnce = cache(() => fetchStations());

/** Minutes after which the newest reading counts as stale (altaviz.yaml windows.freshness_warning_minutes). */
export const FRESHNESS_WARNING_MINUTES = Number(process.env.FRESHNESS_WARNING_MINUTES ?? 60);
