'use client';

import Link from 'next/link';
import { usePathname, useSearchParams } from 'next/navigation';
import { useActionState, useEffect, useRef, useState } from 'react';
import { alertActionFormAction, type ActionState } from '@/app/lib/actions';
import type { AlertStatus } from '@/app/lib/definitions';
import { useSession } from '@/app/ui/shared/session';

type Action = 'acknowledge' | 'resolve' | 'reopen';
const AVAILABLE: Record<AlertStatus, Action[]> = {
  open: ['acknowledge', 'resolve'],
  acknowledged: ['resolve', 'reopen'],
  resolved: ['reopen'],
};
const VERB: Record<Action, string> = { acknowledge: 'Acknowledge', resolve: 'Resolve', reopen: 'Reopen' };

/**
 * Acknowledge / resolve / reopen buttons for a signed-in operator, each opening a dialog that asks
 * why; a viewer sees that the alert is view-only, and someone not signed in gets a sign-in link.
 */
export function AlertActions({ alertId, status, label }: { alertId: string; status: AlertStatus; label: string }) {
  const [action, setAction] = useState<Action | null>(null);
  const session = useSession();
  const pathname = usePathname();
  const search = useSearchParams().toString();
  if (!session) {
    const next = encodeURIComponent(search ? `${pathname}?${search}` : pathname);
    return (
      <div className="alert-row-actions">
        <Link href={`/sign-in?next=${next}`} className="button button--small button--ghost" data-testid="sign-in-to-act">Sign in to act</Link>
      </div>
    );
  }
  if (session.role !== 'operator') {
    return (
      <div className="alert-row-actions">
        <span className="muted" title="Viewers see alerts; operators acknowledge, resolve and reopen them" data-testid="actions-view-only">View only</span>
      </div>
    );
  }
  return (
    <div className="alert-row-actions">
      {AVAILABLE[status].map((a) => (
        <button key={a} type="button" className={`button button--small${a === 'acknowledge' ? '' : ' button--ghost'}`}
          onClick={() => setAction(a)} data-testid={`action-${a}`}>
          {VERB[a]}
        </button>
      ))}
      {action ? (
        <ActionDialog key={action} alertId={alertId} action={action} label={label} account={session.account}
          csrfToken={session.csrfToken} onClose={() => setAction(null)} />
      ) : null}
    </div>
  );
}

type DialogProps = { alertId: string; action: Action; label: string; account: string; csrfToken: string; onClose: () => void };

function ActionDialog({ alertId, action, label, account, csrfToken, onClose }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [state, formAction, pending] = useActionState<ActionState, FormData>(alertActionFormAction, null);

  useEffect(() => {
    ref.current?.showModal();
  }, []);

  useEffect(() => {
    if (state?.ok) onClose();
  }, [state, onClose]);

  return (
    <dialog ref={ref} className="dialog" onClose={onClose} aria-labelledby={`dlg-${alertId}`} data-testid="action-dialog">
      <form action={formAction}>
        <h2 id={`dlg-${alertId}`}>{VERB[action]} alert</h2>
        <p className="muted" style={{ margin: 0 }}>{label}</p>
        <input type="hidden" name="alert_id" value={alertId} />
        <input type="hidden" name="action" value={action} />
        <input type="hidden" name="csrf_token" value={csrfToken} />
        <p className="muted" style={{ margin: 0 }} data-testid="action-as">Recorded as {account}</p>
        <label className="field">Note {action === 'acknowledge' ? '(optional)' : '(required)'}
          <textarea name="note" maxLength={2000} required={action !== 'acknowledge'} data-testid="action-note"
            placeholder={action === 'resolve' ? 'What was done, e.g. replaced crosshead bearing' : 'e.g. crew dispatched, checking lube oil'} />
        </label>
        {state && !state.ok ? <p className="form-msg form-msg--error" role="alert">{state.message}</p> : null}
        <div className="button-row" style={{ justifyContent: 'flex-end' }}>
          <button type="button" className="button button--ghost" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" className="button" disabled={pending} data-testid="action-submit">{pending ? 'Saving…' : VERB[action]}</button>
        </div>
      </form>
    </dialog>
  );
}
