import { expect, test, type APIRequestContext } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, AuditLogPage, marker } from './fixtures/audit_log_page';

// The whole app under `--base-path /admin/audit` (the second server of playwright.config.ts), as a host's
// reverse proxy passes one path to it, shown alone with `embed=1`.
const BASE = '/admin/audit';

function token(): string {
  return readFileSync(join(__dirname, '..', '.tmp-base-path', 'token'), 'utf8').trim();
}

async function ingest(request: APIRequestContext, events: object[]) {
  const resp = await request.post(`${BASE}/api/v1/events`, {
    headers: { Authorization: `Bearer ${token()}` },
    data: { events },
  });
  expect(resp.status(), await resp.text()).toBe(201);
}

test('under a base path with embed=1, filters, paging, the detail and export all work', async ({ page, request }) => {
  const source = marker('base');
  await ingest(request, [
    ...Array.from({ length: 14 }, (_, i) => ({
      action: 'domain.create', source, actor: { type: 'user', name: `creator-${i}` },
    })),
    ...Array.from({ length: 3 }, () => ({ action: 'domain.delete', source, actor: { type: 'user', name: 'remover' } })),
  ]);
  const tab = new AuditLogPage(page);
  // Sent to sign in under the prefix, and back to the tab there.
  await page.goto(`${BASE}/admin/audit-log?embed=1&source=${source}&page_size=10`);
  await expect(page).toHaveURL(new RegExp(`^http://[^/]+${BASE}/login\\?next=`));
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(tab.heading).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`^http://[^/]+${BASE}/admin/audit-log\\?`));
  await tab.waitForHydration();
  // The tab alone: no panel navigation around it.
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(tab.status).toHaveText('Showing 1–10 of 17 events');

  // Paging, through links under the prefix.
  await tab.nextPage.click();
  await expect(tab.status).toHaveText('Showing 11–17 of 17 events');
  await expect(page).toHaveURL(new RegExp(`${BASE}/admin/audit-log\\?.*page=2`));
  await expect(page).toHaveURL(/embed=1/);

  // A filter (and the live counts the browser asks the server functions for, under the prefix).
  await expect(tab.action.locator('option', { hasText: 'domain.delete' })).toHaveText(/^domain\.delete \(3\)$/);
  await tab.action.selectOption('domain.delete');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(page).toHaveURL(new RegExp(`${BASE}/admin/audit-log\\?.*action=domain\\.delete`));
  await expect(page).toHaveURL(/embed=1/);

  // The detail, and Escape back.
  await tab.rows.first().getByRole('button', { name: 'View details' }).click();
  await expect(tab.detail).toBeVisible();
  await expect(tab.detail).toContainText('remover');
  await expect(page).toHaveURL(new RegExp(`${BASE}/admin/audit-log\\?.*event=`));
  await page.keyboard.press('Escape');
  await expect(tab.detail).toHaveCount(0);

  // Export of what the filters match, from under the prefix.
  await tab.exportFormat.selectOption('JSONL');
  const [download] = await Promise.all([page.waitForEvent('download'), tab.exportButton.click()]);
  const lines = readFileSync(await download.path(), 'utf8').trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines.every((l) => JSON.parse(l).action === 'domain.delete')).toBe(true);

  // A reload keeps the whole view.
  await page.reload();
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(tab.action).toHaveValue('domain.delete');
});
