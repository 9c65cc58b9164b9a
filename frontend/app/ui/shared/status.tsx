import type { Health } from '@/app/lib/definitions';

const LABEL: Record<string, string> = {
  normal: 'Healthy', warning: 'Warning', critical: 'Critical', down: 'Down', unknown: 'No data',
  open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved',
};

/** Colour-coded pill. The text carries the meaning too, so it never relies on colour alone. */
export function StatusBadge({ status, label }: { status: Health | string; label?: string }) {
  return (
    <span className={`badge badge--${status}`} data-status={status}>
      {label ?? LABEL[status] ?? status}
    </span>
  );
}

export function StatusDot({ status }: { status: Health | string }) {
  return <span className={`dot dot--${status}`} aria-hidden="true" />;
}
