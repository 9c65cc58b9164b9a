import Link from 'next/link';
import { fetchCompressorAlertHistory } from '@/app/lib/data';
import type { Alert } from '@/app/lib/definitions';
import { EmptyState } from '../shared/empty-state';
import { AlertsTable } from './alerts-table';

/** Every alert episode of one compressor, newest first, with the same actions as the alert table. */
export async function AlertHistory({ compressorId, alerts: started }: { compressorId: string; alerts?: Promise<Alert[]> }) {
  const alerts = await (started ?? fetchCompressorAlertHistory(compressorId));
  return (
    <section className="panel" aria-labelledby="history-title" data-testid="alert-history">
      <div className="panel__head">
        <h2 id="history-title">Alert history</h2>
        <Link href={`/alerts?compressor=${encodeURIComponent(compressorId)}`}>Open in Alerts →</Link>
      </div>
      {alerts.length ? (
        <AlertsTable alerts={alerts} showCompressor={false} />
      ) : (
        <EmptyState title={`No alerts for ${compressorId}`}>It has stayed inside every limit over the published history.</EmptyState>
      )}
    </section>
  );
}
