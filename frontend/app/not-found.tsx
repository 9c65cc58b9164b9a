import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="db-down" data-testid="not-found">
      <h1>Not found</h1>
      <p>There is no such page, compressor or alert in the serving database.</p>
      <p><Link className="button" href="/">Back to the fleet</Link></p>
    </section>
  );
}
