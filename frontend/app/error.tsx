'use client';

import { useEffect } from 'react';

/**
 * Production builds hide server error messages, so this page cannot tell "database down" from a bug;
 * the root layout catches the unreachable database up front, and this covers failures mid-session.
 */
export default function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  useEffect(() => {
    console.warn('[dashboard] view failed to load', error);
  }, [error]);
  const digest = error instanceof Error ? (error as Error & { digest?: string }).digest : undefined;
  return (
    <section className="db-down" role="alert" data-testid="error-page">
      <h1>This view could not be loaded</h1>
      <p>
        The most common cause is that the serving database became unreachable (for example while the pipeline
        restarts its embedded PostgreSQL). Try again in a moment.
      </p>
      {digest ? <p className="muted">Reference: {digest}</p> : null}
      <button type="button" className="button" onClick={() => retry()}>Try again</button>
    </section>
  );
}
