import Link from 'next/link';
import { fetchStations } from '@/app/lib/data';
import type { AlertFilters as Filters } from '@/app/lib/validation';
import { FilterForm } from '../shared/filter-form';

// Dates are echoed from the URL as typed: the parsed 'to' is the next midnight (inclusive bound).
const dateValue = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : '');

export async function AlertFilters({ filters, raw }: { filters: Partial<Filters>; raw: Record<string, string> }) {
  const stations = await fetchStations();
  return (
    <FilterForm key={JSON.stringify(raw)} action="/alerts" testId="alert-filters">
      <label className="field">Severity
        <select name="severity" defaultValue={filters.severity ?? ''} data-testid="filter-severity">
          <option value="">Any</option><option value="critical">Critical</option><option value="warning">Warning</option>
        </select>
      </label>
      <label className="field">Status
        <select name="status" defaultValue={filters.status ?? ''} data-testid="filter-status">
          <option value="">Any</option><option value="open">Open</option><option value="acknowledged">Acknowledged</option><option value="resolved">Resolved</option>
        </select>
      </label>
      <label className="field">Condition
        <select name="active" defaultValue={filters.active === undefined ? '' : String(filters.active)} data-testid="filter-active">
          <option value="">Any</option><option value="true">Active</option><option value="false">Cleared or resolved</option>
        </select>
      </label>
      <label className="field">Station
        <select name="station" defaultValue={filters.station ?? ''} data-testid="filter-station">
          <option value="">All</option>
          {stations.map((s) => <option key={s.station_id} value={s.station_id}>{s.station_name}</option>)}
        </select>
      </label>
      <label className="field">Compressor
        {/* Typed, not picked: a list of a thousand ids would be most of the page. */}
        <input name="compressor" defaultValue={filters.compressor ?? ''} placeholder="e.g. COMP-003" size={12}
          pattern="[A-Za-z0-9][A-Za-z0-9_\-]{0,31}" data-testid="filter-compressor" />
      </label>
      <label className="field">Opened from
        <input type="date" name="from" defaultValue={dateValue(raw.from)} data-testid="filter-from" />
      </label>
      <label className="field">until
        <input type="date" name="to" defaultValue={dateValue(raw.to)} data-testid="filter-to" />
      </label>
      <Link href="/alerts" className="button button--ghost">Reset</Link>
    </FilterForm>
  );
}
