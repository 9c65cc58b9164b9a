import { handler, json, parseJsonBody, parseParam } from '@/app/lib/api';
import { requireOperator } from '@/app/lib/auth/guard';
import { fetchAlert, fetchAlertEvents } from '@/app/lib/data';
import { applyAlertAction, NotFoundError } from '@/app/lib/mutations';
import { alertActionSchema, alertIdSchema } from '@/app/lib/validation';

type Context = RouteContext<'/api/alerts/[alertId]/events'>;

/** The audit trail of one alert, newest first. */
export const GET = handler(async (_request, { params }: Context) => {
  const id = parseParam(alertIdSchema, (await params).alertId, 'alert id');
  if (!(await fetchAlert(id))) throw new NotFoundError(`alert ${id} does not exist`);
  return json({ events: await fetchAlertEvents(id) });
});

/**
 * POST {"action": "acknowledge"|"resolve"|"reopen"|"note", "note": "..."} as a signed-in operator,
 * with the X-CSRF-Token header. The audit trail records the signed-in account.
 */
export const POST = handler(async (request, { params }: Context) => {
  const gate = await requireOperator(request);
  if ('refused' in gate) return gate.refused;
  const id = parseParam(alertIdSchema, (await params).alertId, 'alert id');
  const input = await parseJsonBody(alertActionSchema, request);
  return json(await applyAlertAction(id, { ...input, actor: gate.session.account }), { status: 201 });
});
