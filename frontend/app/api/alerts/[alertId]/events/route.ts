import { handler, json, parseJsonBody, parseParam } from '@/app/lib/api';
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

/** POST {"action": "acknowledge"|"resolve"|"reopen"|"note", "actor": "...", "note": "..."}. */
export const POST = handler(async (request, { params }: Context) => {
  const id = parseParam(alertIdSchema, (await params).alertId, 'alert id');
  const input = await parseJsonBody(alertActionSchema, request);
  return json(await applyAlertAction(id, input), { status: 201 });
});
