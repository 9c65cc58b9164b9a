import { json, jsonError } from '@/app/lib/api';
import { pingDatabase } from '@/app/lib/db';

export async function GET() {
  const status = await pingDatabase();
  return status.ok ? json({ database: 'ok' }) : jsonError(503, status.reason);
}
