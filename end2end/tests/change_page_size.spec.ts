import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('changing the page size refetches with that many rows', async ({ page, request }) => {
  const who = marker('size');
  await ingest(request, Array.from({ length: 30 }, (_, i) => ({
    action: 'mailbox.update', actor: { type: 'user', name: who }, details: { n: i },
  })));
  const tab = new AuditLogPage(page);
  await tab.goto(`actor=${who}`);
  await tab.waitForHydration();
  await expect(tab.rows).toHaveCount(30);
  await tab.pageSize.selectOption('10');
  await expect(tab.rows).toHaveCount(10);
  await expect(tab.status).toHaveText('Showing 1–10 of 30 events');
  await expect(page).toHaveURL(/page_size=10/);
  await expect(page.getByText('Page 1 of 3')).toBeVisible();

  // The pager's next page starts at its top, as a loaded page would, though the page was not loaded again.
  await page.setViewportSize({ width: 1000, height: 400 });
  await tab.nextPage.scrollIntoViewIfNeeded();
  await expect(tab.heading).not.toBeInViewport();
  await tab.nextPage.click();
  await expect(tab.status).toHaveText('Showing 11–20 of 30 events');
  await expect(tab.heading).toBeInViewport();
});
