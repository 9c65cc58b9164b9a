/** Shown in place of any page when the serving database cannot be reached. */
export function DatabaseDown({ reason }: { reason: string }) {
  return (
    <section className="db-down" role="alert" data-testid="database-down">
      <h1>The serving database is unreachable</h1>
      <p>The dashboard could not connect to PostgreSQL, so nothing on this page would be current.</p>
      <pre className="db-down__reason">{reason}</pre>
      <h2>What to check</h2>
      <ul>
        <li>
          Is PostgreSQL running? The pipeline starts an embedded one: from the repository root run{' '}
          <code>.venv/bin/altaviz run</code>.
        </li>
        <li>
          Does <code>DATABASE_URL</code> (if set) point at it, or does <code>$ALTAVIZ_HOME/state/database.json</code>{' '}
          (default <code>.altaviz/state/database.json</code>) describe it?
        </li>
      </ul>
      <p>
        <a className="button" href="">Try again</a>
      </p>
    </section>
  );
}
