'use server';

import { refresh } from 'next/cache';
import { currentSession, sameToken } from './auth/session';
import { DatabaseUnavailableError } from './db';
import { applyAlertAction, ConflictError, NotFoundError } from './mutations';
import { alertActionSchema, alertIdSchema, describeIssues } from './validation';

export type ActionState = { ok: boolean; message: string } | null;

/**
 * Form action behind the Acknowledge / Resolve / Reopen dialogs. Only a signed-in operator may act,
 * and the audit trail records that account. Next refuses a server action whose Origin is not this
 * host; the session's CSRF token in the form is checked as well. Validates like the API route,
 * writes through the same transaction, then refreshes the router so every widget shows the new state.
 */
export async function alertActionFormAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const session = await currentSession();
  if (!session) return { ok: false, message: 'Your session has ended: sign in again to act on alerts.' };
  if (session.role !== 'operator') return { ok: false, message: `${session.account} is a viewer: only operators act on alerts.` };
  if (!sameToken(form.get('csrf_token') as string | null, session.csrfToken)) {
    return { ok: false, message: 'This form is out of date (signed in again elsewhere?): reload the page.' };
  }
  const id = alertIdSchema.safeParse(form.get('alert_id'));
  if (!id.success) return { ok: false, message: 'Unknown alert.' };
  const input = alertActionSchema.safeParse({
    action: form.get('action'),
    note: form.get('note') ?? undefined,
  });
  if (!input.success) return { ok: false, message: describeIssues(input.error) };
  try {
    const { alert } = await applyAlertAction(id.data, { ...input.data, actor: session.account });
    refresh();
    return { ok: true, message: `Alert ${alert.status} by ${session.account}.` };
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ConflictError) return { ok: false, message: err.message };
    if (err instanceof DatabaseUnavailableError) return { ok: false, message: 'The serving database is unreachable; nothing was saved.' };
    throw err;
  }
}
