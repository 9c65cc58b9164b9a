import Link from 'next/link';
import { fetchAlerts } from '@/app/lib/data';
import type { AlertFilters } from '@/app/lib/validation';
import { EmptyState, NoDataYet } from '../shared/empty-state';
import { AlertsTable } from './alerts-table';

export async function AlertResults({ filters, query }: { filters: AlertFilters; query: Record<string, string> }) {
  const page = await fetchAlerts(filters);
  const filtered = Object.keys(query).some((k) => k !== 'page' && k !== 'page_size');
  if (!page.total) {
    return filtered ? (
      <EmptyState title="No alerts match these filters"><Link href="/alerts">Clear the filters</Link> to see every alert.</EmptyState>
    ) : (
      <NoDataYet what="alerts" />
    );
  }
  const pages = Math.max(1, Math.ceil(page.total / page.page_size));
  const link = (p: number) => `/alerts?${new URLSearchParams({ ...query, page: String(p) })}`;
  return (
    <section className="panel">
      <AlertsTable alerts={page.rows} />
      <div className="pager">
        <span className="muted" data-testid="alerts-total">{page.total} alert{page.total === 1 ? '' : 's'}</span>
        {page.page > 1 ? <Link href={link(page.page - 1)}>← Newer</Link> : null}
        <span>Page {page.page} of {pages}</span>
        {page.page < pages ? <Link href={link(page.page + 1)}>Older →</Link> : null}
      </div>
    </section>
  );
}
