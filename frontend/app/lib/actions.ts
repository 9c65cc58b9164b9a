'use server';

import { refresh } from 'next/cache';
import { DatabaseUnavailableError } from './db';
import { applyAlertAction, ConflictError, NotFoundError } from './mutations';
import { alertActionSchema, alertIdSchema, describeIssues } from './validation';

export type ActionState = { ok: boolean; message: string } | null;

/**
 * Form action behind the Acknowledge / Resolve / Reopen dialogs. Validates like the API route,
 * writes through the same transaction, then refreshes the router so every widget shows the new state.
 */
export async function alertActionFormAction(_prev: ActionState, form: FormData): Promise<ActionState> {
  const id = alertIdSchema.safeParse(form.get('alert_id'));
  if (!id.success) return { ok: false, message: 'Unknown alert.' };
  const input = alertActionSchema.safeParse({
    action: form.get('action'),
    actor: form.get('actor') ?? '',
    note: form.get('note') ?? undefined,
  });
  if (!input.success) return { ok: false, message: describeIssues(input.error) };
  try {
    const { alert } = await applyAlertAction(id.data, input.data);
    refresh();
    return { ok: true, message: `Alert ${alert.status} by ${input.data.actor}.` };
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof ConflictError) return { ok: false, message: err.message };
    if (err instanceof DatabaseUnavailableError) return { ok: false, message: 'The serving database is unreachable; nothing was saved.' };
    throw err;
  }
}
