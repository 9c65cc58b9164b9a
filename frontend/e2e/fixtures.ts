import fs from 'node:fs';
import path from 'node:path';
import { expect, test as base, type Page } from '@playwright/test';
import pg from 'pg';
import { connectionConfig } from '../scripts/db-config.mjs';
import { dashboardEnv, SCREENSHOT_DIR } from './env';

type Fixtures = {
  /** Fails the test if the page logged a console error or threw, whatever the test itself checked. */
  consoleErrors: string[];
  db: pg.Client;
};

export const test = base.extend<Fixtures>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console.error: ${msg.text()} @ ${msg.location().url}`);
      });
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      await use(errors);
      expect(errors, 'the page logged errors').toEqual([]);
    },
    { auto: true },
  ],
  db: async ({}, use) => {
    const client = new pg.Client(connectionConfig(dashboardEnv()));
    await client.connect();
    await use(client);
    await client.end();
  },
});

export { expect };

/** Full-page screenshot kept as an artefact (test-results/screenshots, gitignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Wait until every Suspense skeleton on the page has been replaced by its widget. */
export async function waitForWidgets(page: Page): Promise<void> {
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
}
