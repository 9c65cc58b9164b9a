import type { Metadata, Viewport } from 'next';
import { cookies } from 'next/headers';
import Link from 'next/link';
import { currentSession } from './lib/auth/session';
import { pingDatabase } from './lib/db';
import { DatabaseDown } from './ui/shared/database-down';
import { Nav } from './ui/shared/nav';
import { AccountMenu, SessionProvider, type ClientSession } from './ui/shared/session';
import { ThemeToggle } from './ui/shared/theme-toggle';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Altaviz operations', template: '%s · Altaviz' },
  description: 'Predictive maintenance for natural-gas compressor fleets',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const stored = (await cookies()).get('theme')?.value;
  const theme = stored === 'dark' || stored === 'light' ? stored : null;
  // One cheap round trip on a full page load turns "database down" into a page that says so,
  // instead of every widget failing on its own.
  const db = await pingDatabase();
  // Who is signed in; a database that fails between the ping and here shows the page signed out.
  const s = db.ok ? await currentSession().catch(() => null) : null;
  const session: ClientSession = s ? { account: s.account, role: s.role, csrfToken: s.csrfToken } : null;
  return (
    <html lang="en" data-theme={theme ?? undefined}>
      <body>
        <SessionProvider session={session}>
        <a className="skip-link" href="#main">Skip to content</a>
        <header className="topbar">
          <Link href="/" className="brand" aria-label="Altaviz home">
            <svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true">
              <path d="M3 20 L12 4 L21 20 Z" fill="none" stroke="currentColor" strokeWidth="2.2" strokeLinejoin="round" />
              <path d="M8 15 H16" stroke="var(--accent)" strokeWidth="2.2" />
            </svg>
            <span>Altaviz</span>
          </Link>
          <Nav />
          <AccountMenu />
          <ThemeToggle initial={theme} />
        </header>
        <main id="main" className="main">
          {db.ok ? children : <DatabaseDown reason={db.reason} />}
        </main>
        </SessionProvider>
      </body>
    </html>
  );
}
