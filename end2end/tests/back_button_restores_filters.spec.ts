import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('Back returns to the previous filters and a reload keeps them', async ({ page, request }) => {
  const source = marker('back');
  await ingest(request, [
    ...Array.from({ length: 2 }, () => ({ action: 'dns.update', outcome: 'failure', source, actor: { type: 'system', name: 'dns' } })),
    ...Array.from({ length: 5 }, () => ({ action: 'dns.update', source, actor: { type: 'system', name: 'dns' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–7 of 7 events');
  await tab.outcome.selectOption('failure');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await page.reload();
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(tab.outcome).toHaveValue('failure');
  await page.goBack();
  await expect(tab.status).toHaveText('Showing 1–7 of 7 events');
});
