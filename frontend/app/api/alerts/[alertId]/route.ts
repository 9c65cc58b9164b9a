import { handler, json, parseParam } from '@/app/lib/api';
import { fetchAlert, fetchAlertEvents } from '@/app/lib/data';
import { NotFoundError } from '@/app/lib/mutations';
import { alertIdSchema } from '@/app/lib/validation';

export const GET = handler(async (_request, { params }: RouteContext<'/api/alerts/[alertId]'>) => {
  const id = parseParam(alertIdSchema, (await params).alertId, 'alert id');
  const [alert, events] = await Promise.all([fetchAlert(id), fetchAlertEvents(id)]);
  if (!alert) throw new NotFoundError(`alert ${id} does not exist`);
  return json({ alert, events });
});
