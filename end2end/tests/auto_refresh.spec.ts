import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('auto-refresh shows new events without losing the filters', async ({ page, request }) => {
  test.setTimeout(40_000);
  const source = marker('auto');
  await ingest(request, [{ action: 'backup.create', source, actor: { type: 'system', name: 'backup' } }]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}&page_size=10`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–1 of 1 events');
  await tab.autoRefresh.check();
  await ingest(request, [{ action: 'backup.create', source, actor: { type: 'system', name: 'backup' } }]);
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events', { timeout: 15_000 });
  await expect(page).toHaveURL(new RegExp(`source=${source}`));
  await expect(tab.pageSize).toHaveValue('10');
});

test('auto-refresh is kept in the URL, so a reload keeps it', async ({ page, request }) => {
  test.setTimeout(40_000);
  const source = marker('reload');
  await ingest(request, [{ action: 'backup.create', source, actor: { type: 'system', name: 'backup' } }]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await tab.autoRefresh.check();
  await expect(page).toHaveURL(/refresh=1/);
  await page.reload();
  await tab.waitForHydration();
  await expect(tab.autoRefresh).toBeChecked();
  await ingest(request, [{ action: 'backup.create', source, actor: { type: 'system', name: 'backup' } }]);
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events', { timeout: 15_000 });
  await tab.autoRefresh.uncheck();
  await expect(page).not.toHaveURL(/refresh=/);
});
