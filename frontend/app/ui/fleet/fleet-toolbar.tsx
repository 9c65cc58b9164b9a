import Link from 'next/link';
import type { Station } from '@/app/lib/definitions';
import { FLEET_SORTS, type FleetQuery, type FleetSort } from '@/app/lib/validation';
import { FilterForm } from '../shared/filter-form';

const SORT_LABELS: Record<FleetSort, string> = {
  worst: 'Worst first', id: 'Compressor id', alerts: 'Most active alerts',
  vibration: 'Highest vibration', temp: 'Highest discharge temp.', risk: 'Highest failure risk',
};

/**
 * Search, filters and sort of the fleet list as one GET form: the state lives in the URL, and any
 * change starts again at page 1 (the page number is not part of the form).
 */
export function FleetToolbar({ action, query, facets, invalid }: {
  action: string;
  query: Partial<FleetQuery>;
  facets: { stations: Station[]; basins: string[]; models: string[] };
  invalid?: boolean;
}) {
  return (
    <FilterForm key={JSON.stringify(query)} action={action} testId="fleet-filters">
      <label className="field">Search
        <input type="search" name="q" defaultValue={query.q ?? ''} placeholder="id, station, city, model" maxLength={64} data-testid="fleet-search" />
      </label>
      <label className="field">Station
        <select name="station" defaultValue={query.station ?? ''}>
          <option value="">All stations</option>
          {facets.stations.map((s) => <option key={s.station_id} value={s.station_id}>{s.station_name}</option>)}
        </select>
      </label>
      <label className="field">Basin
        <select name="basin" defaultValue={query.basin ?? ''}>
          <option value="">All basins</option>
          {facets.basins.map((b) => <option key={b} value={b}>{b}</option>)}
        </select>
      </label>
      <label className="field">Model
        <select name="model" defaultValue={query.model ?? ''}>
          <option value="">All models</option>
          {facets.models.map((m) => <option key={m} value={m}>{m}</option>)}
        </select>
      </label>
      <label className="field">Health
        <select name="health" defaultValue={query.health ?? ''}>
          <option value="">Any</option>
          <option value="critical">Critical</option>
          <option value="warning">Warning</option>
          <option value="down">Down</option>
          <option value="normal">Healthy</option>
          <option value="unknown">No data</option>
        </select>
      </label>
      <label className="field">Sort
        <select name="sort" defaultValue={query.sort ?? 'worst'}>
          {FLEET_SORTS.map((s) => <option key={s} value={s}>{SORT_LABELS[s]}</option>)}
        </select>
      </label>
      {invalid ? <Link href={action}>Ignored an invalid filter: clear</Link> : null}
    </FilterForm>
  );
}

/** The URL of another page of the same list: every other parameter is kept. */
export function fleetPageHref(action: string, query: Partial<FleetQuery>, page: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, page })) {
    if (v === undefined || v === '' || (k === 'sort' && v === 'worst') || (k === 'page' && v === 1)) continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${action}?${qs}` : action;
}

export function FleetPager({ action, query, total, page, pageSize, noun = 'compressor' }: {
  action: string; query: Partial<FleetQuery>; total: number; page: number; pageSize: number; noun?: string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = Math.min(total, (page - 1) * pageSize + 1);
  const last = Math.min(total, page * pageSize);
  const href = (p: number) => fleetPageHref(action, query, p);
  return (
    <nav className="pager" aria-label="Pages" data-testid="fleet-pager">
      <span className="muted" data-testid="fleet-total">
        {total ? `${first}–${last} of ${total.toLocaleString('en-US')} ${noun}${total === 1 ? '' : 's'}` : `0 ${noun}s`}
      </span>
      {page > 1 ? <Link href={href(1)}>« First</Link> : null}
      {page > 1 ? <Link href={href(page - 1)} rel="prev">← Previous</Link> : null}
      <span data-testid="fleet-page">Page {page} of {pages}</span>
      {page < pages ? <Link href={href(page + 1)} rel="next">Next →</Link> : null}
      {page < pages ? <Link href={href(pages)}>Last »</Link> : null}
    </nav>
  );
}
