import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { alertFiltersSchema, describeIssues, searchParamsToObject } from '@/app/lib/validation';
import { AlertFilters } from '@/app/ui/alerts/alert-filters';
import { AlertResults } from '@/app/ui/alerts/alert-results';
import { EmptyState } from '@/app/ui/shared/empty-state';
import { SkeletonBlock, TableSkeleton } from '@/app/ui/shared/skeletons';

export const metadata: Metadata = { title: 'Alerts' };

export default async function AlertsPage(props: PageProps<'/alerts'>) {
  const raw = searchParamsToObject(await props.searchParams);
  const parsed = alertFiltersSchema.safeParse(raw);
  const query = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return (
    <>
      <div className="page-head">
        <h1>Alerts</h1>
        <p className="muted">Episodes per compressor, sensor and severity; acknowledge or resolve with a note</p>
      </div>
      <Suspense fallback={<SkeletonBlock height={58} />}>
        <AlertFilters filters={parsed.success ? parsed.data : {}} raw={query} />
      </Suspense>
      {parsed.success ? (
        <Suspense key={JSON.stringify(raw)} fallback={<TableSkeleton rows={8} />}>
          <AlertResults filters={parsed.data} query={query} />
        </Suspense>
      ) : (
        <EmptyState title="These filters are not valid">
          {describeIssues(parsed.error)}. <Link href="/alerts">Clear the filters</Link>.
        </EmptyState>
      )}
    </>
  );
}
