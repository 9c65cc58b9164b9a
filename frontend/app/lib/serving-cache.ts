import { query, SchemaMissingError } from './db';

/**
 * Short-lived in-process cache of fleet-level reads, keyed by the serving database's version.
 *
 * The serving data changes in two ways only: a publish (05_publish writes `publish_watermarks` in the
 * same transaction as its rows, and the run lands in `pipeline_runs`), and an operator action (one
 * transaction that appends to `alert_events`). The version is those three maxima, read at most once
 * a second per process; an entry computed under another version is read again. An operator action
 * in this process drops the cache at once; another worker process (scripts/start.mjs) sees it within
 * VERSION_TTL_MS.
 */

const VERSION_TTL_MS = 1000;
const MAX_ENTRIES = 500;

type Entry = { version: string; value: Promise<unknown> };
type State = { store: Map<string, Entry>; version: { at: number; value: Promise<string | null> } | null; bump: number };
const holder = globalThis as unknown as { __altavizServingCache?: State };
const state: State = (holder.__altavizServingCache ??= { store: new Map(), version: null, bump: 0 });

const VERSION_SQL = `SELECT concat_ws('|',
  (SELECT MAX(published_at) FROM publish_watermarks),
  (SELECT MAX(updated_at) FROM pipeline_runs),
  (SELECT MAX(event_id) FROM alert_events)) AS v`;

/** The serving data's version, or null when the schema is not there yet (nothing to cache). */
function servingVersion(maxAgeMs = VERSION_TTL_MS): Promise<string | null> {
  const now = Date.now();
  if (state.version && now - state.version.at < maxAgeMs) return state.version.value;
  const bump = state.bump;
  const value = query<{ v: string }>(VERSION_SQL).then(
    (r) => `${r[0]?.v ?? ''}#${bump}`,
    (err) => {
      if (err instanceof SchemaMissingError) return null;
      throw err;
    },
  );
  const memo = { at: now, value };
  state.version = memo;
  value.catch(() => {
    if (state.version === memo) state.version = null;
  });
  return value;
}

// scripts/response-cache.mjs (same process, outside the bundle) keys whole responses on the version,
// read afresh for each request it may answer.
(globalThis as unknown as { __altavizServingVersion?: () => Promise<string | null> }).__altavizServingVersion = () =>
  servingVersion(0);

/** Forget everything: this process just changed the serving data (an operator action). */
export function invalidateServingCache(): void {
  state.bump++;
  state.version = null;
  state.store.clear();
}

/** `load()`'s result for `key` under the current serving version (shared by concurrent callers). */
export async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
  const version = await servingVersion();
  if (version === null) return load();
  const hit = state.store.get(key);
  if (hit && hit.version === version) {
    // Most recently used last, so the oldest entry is the first to go.
    state.store.delete(key);
    state.store.set(key, hit);
    return hit.value as Promise<T>;
  }
  const value = load();
  const entry = { version, value };
  state.store.set(key, entry);
  if (state.store.size > MAX_ENTRIES) state.store.delete(state.store.keys().next().value!);
  value.catch(() => {
    if (state.store.get(key) === entry) state.store.delete(key);
  });
  return value;
}
