import type { ReactNode } from 'react';

/** An empty widget says why it is empty and what to do about it. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <p className="empty__title">{title}</p>
      {children ? <div className="empty__body">{children}</div> : null}
    </div>
  );
}

export function NoDataYet({ what = 'data' }: { what?: string }) {
  return (
    <EmptyState title={`No ${what} yet: run the pipeline`}>
      From the repository root run <code>.venv/bin/altaviz run</code>; it publishes to the
      serving database this dashboard reads. Then reload this page.
    </EmptyState>
  );
}
