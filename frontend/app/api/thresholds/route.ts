import { handler, json } from '@/app/lib/api';
import { fetchThresholds } from '@/app/lib/data';

export const GET = handler(async () => json({ thresholds: await fetchThresholds() }));
