import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

// Tokyo is UTC+9 all year (no daylight saving time), so the expected local times are fixed.
test.use({ timezoneId: 'Asia/Tokyo' });

test('Time zone Local shows times, and takes From and To, in the browser’s time zone', async ({ page, request }) => {
  const server = marker('tz');
  await ingest(request, [
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: '2026-03-04T07:50:00Z' },
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: '2026-03-04T08:10:00Z' },
  ]);
  const tab = new AuditLogPage(page);
  const zone = page.getByLabel('Time zone');
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  await expect(zone.locator('option')).toHaveText(['UTC', 'Local']);
  await expect(tab.rows.first().locator('time')).toHaveText('2026-03-04 08:10:00');

  await zone.selectOption({ label: 'Local' });
  await expect(page).toHaveURL(/tz=local/);
  await expect(tab.rows.first().locator('time')).toHaveText('2026-03-04 17:10:00');
  await expect(tab.rows.nth(1).locator('time')).toHaveText('2026-03-04 16:50:00');

  // 17:00 in Tokyo is 08:00 UTC: only the later event is after it.
  await page.getByLabel('Time range').selectOption({ label: 'Custom' });
  await tab.from.fill('2026-03-04T17:00');
  await expect(tab.status).toHaveText('Showing 1–1 of 1 events');
  await expect(page).toHaveURL(/from=2026-03-04T08%3A00%3A00.000Z|from=2026-03-04T08:00:00.000Z/);

  // A reload keeps the zone, and shows the bound in it.
  await page.reload();
  await tab.waitForHydration();
  await expect(tab.from).toHaveValue('2026-03-04T17:00');
  await expect(tab.rows.first().locator('time')).toHaveText('2026-03-04 17:10:00');
  await expect(zone).toHaveValue('local');
});
