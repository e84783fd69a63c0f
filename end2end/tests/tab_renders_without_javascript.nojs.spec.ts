import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('the server-rendered tab shows headers and rows without JavaScript', async ({ page, request }) => {
  const who = marker('nojs');
  await ingest(request, Array.from({ length: 3 }, (_, i) => ({
    action: 'mailbox.create', actor: { type: 'user', name: who }, target: { type: 'mailbox', name: `box${i}@example.com` },
  })));
  const tab = new AuditLogPage(page);
  await tab.goto(`actor=${who}`);
  for (const name of ['Timestamp', 'Action', 'Actor', 'Target', 'Details', 'IP address']) {
    await expect(tab.columnHeader(name)).toBeVisible();
  }
  await expect(tab.rows).toHaveCount(3);
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
});

test('without JavaScript the filters are a GET form and the pages are links', async ({ page, request }) => {
  const who = marker('nojs-pages');
  await ingest(request, Array.from({ length: 12 }, () => ({ action: 'user.update', actor: { type: 'user', name: who } })));
  const tab = new AuditLogPage(page);
  await tab.goto(`actor=${who}`);
  await tab.pageSize.selectOption('10');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(tab.rows).toHaveCount(10);
  await expect(page.getByText('Page 1 of 2')).toBeVisible();
  await tab.nextPage.click();
  await expect(tab.rows).toHaveCount(2);
  await expect(tab.status).toHaveText('Showing 11–12 of 12 events');
  await expect(tab.nextPage).toBeDisabled();
});
