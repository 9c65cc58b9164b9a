'use client';

import { useActionState, useEffect, useRef, useState } from 'react';
import { alertActionFormAction, type ActionState } from '@/app/lib/actions';
import type { AlertStatus } from '@/app/lib/definitions';

type Action = 'acknowledge' | 'resolve' | 'reopen';
const AVAILABLE: Record<AlertStatus, Action[]> = {
  open: ['acknowledge', 'resolve'],
  acknowledged: ['resolve', 'reopen'],
  resolved: ['reopen'],
};
const VERB: Record<Action, string> = { acknowledge: 'Acknowledge', resolve: 'Resolve', reopen: 'Reopen' };
const OPERATOR_KEY = 'altaviz.operator';

/** Acknowledge / resolve / reopen buttons, each opening a dialog that asks who and why. */
export function AlertActions({ alertId, status, label }: { alertId: string; status: AlertStatus; label: string }) {
  const [action, setAction] = useState<Action | null>(null);
  return (
    <div className="alert-row-actions">
      {AVAILABLE[status].map((a) => (
        <button key={a} type="button" className={`button button--small${a === 'acknowledge' ? '' : ' button--ghost'}`}
          onClick={() => setAction(a)} data-testid={`action-${a}`}>
          {VERB[a]}
        </button>
      ))}
      {action ? <ActionDialog key={action} alertId={alertId} action={action} label={label} onClose={() => setAction(null)} /> : null}
    </div>
  );
}

function ActionDialog({ alertId, action, label, onClose }: { alertId: string; action: Action; label: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [state, formAction, pending] = useActionState<ActionState, FormData>(alertActionFormAction, null);
  const [actor, setActor] = useState('');

  useEffect(() => {
    setActor(localStorage.getItem(OPERATOR_KEY) ?? '');
    ref.current?.showModal();
  }, []);

  useEffect(() => {
    if (state?.ok) onClose();
  }, [state, onClose]);

  return (
    <dialog ref={ref} className="dialog" onClose={onClose} aria-labelledby={`dlg-${alertId}`} data-testid="action-dialog">
      <form action={(fd) => { localStorage.setItem(OPERATOR_KEY, String(fd.get('actor') ?? '').trim()); formAction(fd); }}>
        <h2 id={`dlg-${alertId}`}>{VERB[action]} alert</h2>
        <p className="muted" style={{ margin: 0 }}>{label}</p>
        <input type="hidden" name="alert_id" value={alertId} />
        <input type="hidden" name="action" value={action} />
        <label className="field">Operator name
          <input name="actor" required maxLength={128} autoComplete="name" value={actor} onChange={(e) => setActor(e.target.value)} data-testid="action-actor" />
        </label>
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
