import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('the Action header sorts ascending then descending and says so', async ({ page, request }) => {
  const source = marker('sort');
  await ingest(request, ['backup.restore', 'alpha.create', 'zulu.delete'].map((action) => ({
    action, source, actor: { type: 'system', name: 'sorter' },
  })));
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  const header = tab.columnHeader('Action');
  await expect(header).toHaveAttribute('aria-sort', 'none');
  // The tab's links change the address in place: the page is not loaded again, and Back undoes a step.
  await page.evaluate(() => Object.assign(window, { sameDocument: true }));
  await header.getByRole('button', { name: 'Action', exact: true }).click();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect(tab.rows.first()).toContainText('zulu.delete');
  await header.getByRole('button', { name: 'Action', exact: true }).click();
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect(tab.rows.first()).toContainText('alpha.create');
  await expect(tab.rows.last()).toContainText('zulu.delete');
  expect(await page.evaluate(() => 'sameDocument' in window)).toBe(true);
  await page.goBack();
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  await expect(tab.rows.first()).toContainText('zulu.delete');
});
