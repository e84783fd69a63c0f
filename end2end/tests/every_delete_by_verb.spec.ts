import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('the Verb select shows every action of that verb, whatever its category', async ({ page, request }) => {
  const source = marker('verb');
  await ingest(request, [
    ...Array.from({ length: 2 }, () => ({ action: 'domain.delete', source, actor: { type: 'system', name: 'ops' } })),
    ...Array.from({ length: 3 }, () => ({ action: 'alias.delete', source, actor: { type: 'system', name: 'ops' } })),
    ...Array.from({ length: 4 }, () => ({ action: 'alias.create', source, actor: { type: 'system', name: 'ops' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–9 of 9 events');
  await expect(tab.verb.locator('option').first()).toHaveText('All verbs');
  await tab.verb.selectOption('delete');
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  await expect(page).toHaveURL(/verb=delete/);
  await page.reload();
  await expect(tab.verb).toHaveValue('delete');
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
});
