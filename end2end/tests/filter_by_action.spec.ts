import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('filtering by action shows only that action, grouped by category in the menu', async ({ page, request }) => {
  const source = marker('src');
  await ingest(request, [
    ...Array.from({ length: 4 }, () => ({ action: 'relay.create', source, actor: { type: 'system', name: 'relays' } })),
    ...Array.from({ length: 3 }, () => ({ action: 'relay.delete', source, actor: { type: 'system', name: 'relays' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–7 of 7 events');
  await expect(tab.action.locator('option').first()).toHaveText('All actions');
  await expect(tab.action.locator('optgroup[label="relay"] option')).toHaveText([
    'All relay actions',
    /^relay\.create \(4\)$/,
    /^relay\.delete \(3\)$/,
  ]);
  await tab.action.selectOption('relay.delete');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(tab.rows).toHaveCount(3);
  await expect(page).toHaveURL(/action=relay\.delete/);
  await tab.action.selectOption({ label: 'All relay actions' });
  await expect(tab.status).toHaveText('Showing 1–7 of 7 events');
  await expect(page).toHaveURL(/category=relay/);
  await expect(page).not.toHaveURL(/action=/);
  await page.reload();
  await expect(tab.action).toHaveValue('relay.*');
  await tab.clearFilters.click();
  await expect(page).not.toHaveURL(/source=/);
});
