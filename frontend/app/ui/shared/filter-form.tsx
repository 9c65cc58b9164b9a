'use client';

import Form from 'next/form';
import type { ReactNode } from 'react';

/**
 * A GET form: filters live in the URL (shareable, reload-safe, back-button friendly). Changing a
 * select submits at once; without JavaScript the Apply button does the same.
 */
export function FilterForm({ action, children, testId }: { action: string; children: ReactNode; testId?: string }) {
  return (
    <Form
      action={action}
      className="filters"
      data-testid={testId}
      onChange={(e) => {
        const target = e.target as HTMLElement;
        if (target.tagName === 'SELECT') (e.currentTarget as HTMLFormElement).requestSubmit();
      }}
    >
      {children}
      <button type="submit" className="button">Apply</button>
    </Form>
  );
}
