'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { createContext, useContext } from 'react';
import styles from './session.module.css';

/** Who is signed in, handed from the root layout to client components (the CSRF token included). */
export type ClientSession = { account: string; role: 'viewer' | 'operator'; csrfToken: string } | null;

const SessionContext = createContext<ClientSession>(null);

export function SessionProvider({ session, children }: { session: ClientSession; children: React.ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): ClientSession {
  return useContext(SessionContext);
}

/** Top-bar account menu: the account and role with Sign out, or a Sign in link back to this page. */
export function AccountMenu() {
  const session = useSession();
  const pathname = usePathname();
  if (!session) {
    if (pathname === '/sign-in') return null;
    return (
      <Link href={`/sign-in?next=${encodeURIComponent(pathname)}`} className="button button--small button--ghost" data-testid="sign-in-link">
        Sign in
      </Link>
    );
  }
  return (
    <form action="/api/auth/sign-out" method="post" className={styles.menu} data-testid="account-menu">
      <span className="muted" data-testid="signed-in-as" data-role={session.role}>
        {session.account} · {session.role}
      </span>
      <button type="submit" className="button button--small button--ghost" data-testid="sign-out">Sign out</button>
    </form>
  );
}
