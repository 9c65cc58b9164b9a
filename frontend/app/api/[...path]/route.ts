import { jsonError } from '@/app/lib/api';

// Unknown API paths answer in the API's JSON error shape, not with the HTML 404 page.
const notFound = async () => jsonError(404, 'no such API route');
export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
