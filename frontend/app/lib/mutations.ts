import { transaction } from './db';
import { invalidateServingCache } from './serving-cache';
import type { Alert, AlertAction, AlertEvent, AlertStatus } from './definitions';
import type { AlertActionInput } from './validation';

export class NotFoundError extends Error {
  readonly status = 404;
}
export class ConflictError extends Error {
  readonly status = 409;
}

/** Which statuses each action may start from, and where it leads. 'note' leaves the status alone. */
const TRANSITIONS: Record<AlertAction, { from: AlertStatus[]; to: AlertStatus | null }> = {
  acknowledge: { from: ['open'], to: 'acknowledged' },
  resolve: { from: ['open', 'acknowledged'], to: 'resolved' },
  reopen: { from: ['resolved', 'acknowledged'], to: 'open' },
  note: { from: ['open', 'acknowledged', 'resolved'], to: null },
};

// Operator-owned columns only: the pipeline's upserts never write these, so they survive reruns.
const SET_BY_ACTION: Record<AlertAction, string> = {
  acknowledge: `status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $2, operator_note = COALESCE($3, operator_note)`,
  resolve: `status = 'resolved', resolved_at = now(), resolved_by = $2, operator_note = COALESCE($3, operator_note)`,
  reopen: `status = 'open', resolved_at = NULL, resolved_by = NULL, acknowledged_at = NULL, acknowledged_by = NULL,
            operator_note = COALESCE($3, operator_note)`,
  // No $2 here: PostgreSQL cannot type a parameter the statement never uses, so a note binds only the note.
  note: `operator_note = COALESCE($2, operator_note)`,
};

/**
 * Apply an operator action: update the alert and append to the audit trail in one transaction.
 * The row is locked first so two operators acting at once cannot both acknowledge. `actor` is the
 * signed-in account's name (callers take it from the session).
 */
export async function applyAlertAction(
  alertId: string,
  input: AlertActionInput & { actor: string },
): Promise<{ alert: Pick<Alert, 'alert_id' | 'status' | 'acknowledged_by' | 'acknowledged_at' | 'resolved_by' | 'resolved_at' | 'operator_note'>; event: AlertEvent }> {
  const rule = TRANSITIONS[input.action];
  const out = await transaction(async (client) => {
    const current = await client.query<{ status: AlertStatus }>(
      `SELECT status FROM alerts WHERE alert_id = $1 FOR UPDATE`,
      [alertId],
    );
    const status = current.rows[0]?.status;
    if (!status) throw new NotFoundError(`alert ${alertId} does not exist`);
    if (!rule.from.includes(status)) {
      throw new ConflictError(`cannot ${input.action} an alert that is ${status}`);
    }
    const updated = await client.query(
      `UPDATE alerts SET ${SET_BY_ACTION[input.action]}, updated_at = now()
        WHERE alert_id = $1
        RETURNING alert_id, status, acknowledged_by, acknowledged_at, resolved_by, resolved_at, operator_note`,
      input.action === 'note' ? [alertId, input.note ?? null] : [alertId, input.actor, input.note ?? null],
    );
    const event = await client.query<AlertEvent>(
      `INSERT INTO alert_events (alert_id, action, actor, note) VALUES ($1, $2, $3, $4)
       RETURNING event_id, alert_id, action, actor, note, created_at`,
      [alertId, input.action, input.actor, input.note ?? null],
    );
    return { alert: updated.rows[0], event: event.rows[0]! };
  });
  invalidateServingCache(); // this process's fleet views show the action at once (others within a second)
  return out;
}
