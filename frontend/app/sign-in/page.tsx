import type { Metadata } from 'next';
import Link from 'next/link';
import { authConfig } from '@/app/lib/auth/config';
import { currentSession } from '@/app/lib/auth/session';
import { safeNext } from '@/app/lib/auth/sign-in';
import styles from '@/app/ui/shared/session.module.css';

export const metadata: Metadata = { title: 'Sign in' };

const MESSAGES: Record<string, string> = {
  invalid: 'Wrong account name or password.',
  missing: 'Enter your account name and password.',
  rate_limited: 'Too many failed sign-ins for this account from here. Wait a few minutes and try again.',
  entra_refused: 'Microsoft Entra ID did not sign you in.',
  entra_expired: 'That sign-in took too long or was started elsewhere. Try again.',
  entra_no_role: 'Your Microsoft account has no Altaviz role. Ask an administrator for the Altaviz.Operator or Altaviz.Viewer role.',
  entra_failed: 'Signing in with Microsoft Entra ID failed. Try again, or ask an administrator to check the dashboard log.',
};

/** Password sign-in (a plain form: works without JavaScript) and, when configured, Microsoft Entra ID. */
export default async function SignInPage({ searchParams }: PageProps<'/sign-in'>) {
  const params = await searchParams;
  const next = safeNext(typeof params.next === 'string' ? params.next : undefined);
  const error = typeof params.error === 'string' ? MESSAGES[params.error] : undefined;
  const cfg = authConfig();
  const session = await currentSession().catch(() => null);
  return (
    <section className={`panel ${styles.signIn}`} aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {session ? (
        <p data-testid="already-signed-in">
          Signed in as <strong>{session.account}</strong> ({session.role}). <Link href={next}>Continue</Link>
        </p>
      ) : null}
      <p className="muted">Viewers see the fleet and its alerts; operators also acknowledge, resolve and reopen alerts.</p>
      {error ? <p className="form-msg form-msg--error" role="alert" data-testid="sign-in-error">{error}</p> : null}
      {cfg.localAccounts ? (
        <form action="/api/auth/sign-in" method="post" className={styles.form} data-testid="sign-in-form">
          <input type="hidden" name="next" value={next} />
          <label className="field">Account
            <input name="name" required maxLength={128} autoComplete="username" autoFocus data-testid="sign-in-name" />
          </label>
          <label className="field">Password
            <input name="password" type="password" required maxLength={1024} autoComplete="current-password" data-testid="sign-in-password" />
          </label>
          <button type="submit" className="button" data-testid="sign-in-submit">Sign in</button>
        </form>
      ) : null}
      {cfg.entra ? (
        <a className="button button--ghost" href={`/api/auth/entra/sign-in?next=${encodeURIComponent(next)}`} data-testid="sign-in-entra">
          Sign in with Microsoft
        </a>
      ) : null}
      {cfg.localAccounts ? (
        <p className="muted">
          No account yet? The first one is printed by <code>make run</code>; more come from{' '}
          <code>altaviz users add &lt;name&gt; --role operator|viewer</code>.
        </p>
      ) : null}
    </section>
  );
}
