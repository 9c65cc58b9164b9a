import { fetchAlertEvents } from '@/app/lib/data';
import { fmtTime } from '@/app/lib/format';
import { EmptyState } from '../shared/empty-state';

const PAST: Record<string, string> = { acknowledge: 'acknowledged', resolve: 'resolved', reopen: 'reopened', note: 'added a note' };

export async function AuditTrail({ alertId }: { alertId: string }) {
  const events = await fetchAlertEvents(alertId);
  return (
    <section className="panel" aria-labelledby="audit-title" data-testid="audit-trail">
      <h2 id="audit-title">Audit trail</h2>
      {events.length ? (
        <ol className="timeline">
          {events.map((e) => (
            <li key={e.event_id} data-testid="audit-event" data-action={e.action}>
              <strong>{e.actor}</strong> {PAST[e.action] ?? e.action} <span className="muted">· {fmtTime(e.created_at)}</span>
              {e.note ? <div>{e.note}</div> : null}
            </li>
          ))}
        </ol>
      ) : (
        <EmptyState title="No operator actions yet">Acknowledge the alert when someone is on it; resolve it with what was done.</EmptyState>
      )}
    </section>
  );
}
