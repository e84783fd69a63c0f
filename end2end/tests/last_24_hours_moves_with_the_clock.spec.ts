import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

test('Last 24 hours is kept as a preset, so a reload later shows a later range', async ({ page, request }) => {
  test.setTimeout(90_000);
  const server = marker('range');
  const now = Date.now();
  // The oldest of these leaves the last 24 hours about 20 seconds from now.
  await ingest(request, [
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: iso(now - 24 * HOUR + 20_000) },
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: iso(now - 2 * HOUR) },
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: iso(now - 10 * 24 * HOUR) },
  ]);
  const tab = new AuditLogPage(page);
  const range = page.getByLabel('Time range');
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  await expect(range.locator('option')).toHaveText([
    'Any time', 'Last hour', 'Last 24 hours', 'Last 7 days', 'Last 30 days', 'Custom',
  ]);
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');

  await range.selectOption({ label: 'Last 24 hours' });
  await expect(page).toHaveURL(/range=24h/);
  await expect(page).not.toHaveURL(/from=/);
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');

  // The same URL, later: the range has moved past the oldest of the two.
  await expect(async () => {
    await page.reload();
    await expect(tab.status).toHaveText('Showing 1–1 of 1 events', { timeout: 2_000 });
  }).toPass({ timeout: 60_000, intervals: [2_000] });
  await expect(range).toHaveValue('24h');

  await range.selectOption({ label: 'Last 7 days' });
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
});

test('Custom takes From and To with a time of day', async ({ page, request }) => {
  const server = marker('custom');
  await ingest(request, [
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: '2026-03-04T08:10:00Z' },
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: '2026-03-04T09:40:00Z' },
    { action: 'user.update', actor: { type: 'system', name: 'cron' }, source: server, timestamp: '2026-03-04T11:05:00Z' },
  ]);
  const tab = new AuditLogPage(page);
  const range = page.getByLabel('Time range');
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  await range.selectOption({ label: 'Custom' });
  await expect(tab.from).toBeFocused();
  await tab.from.fill('2026-03-04T09:00');
  await expect(page).toHaveURL(/from=2026-03-04T09%3A00|from=2026-03-04T09:00/);
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await tab.to.fill('2026-03-04T11:00');
  await expect(tab.status).toHaveText('Showing 1–1 of 1 events');
  await expect(range).toHaveValue('custom');

  await page.reload();
  await expect(tab.from).toHaveValue('2026-03-04T09:00');
  await expect(tab.to).toHaveValue('2026-03-04T11:00');
  await expect(range).toHaveValue('custom');
  await expect(tab.status).toHaveText('Showing 1–1 of 1 events');

  await range.selectOption({ label: 'Any time' });
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(tab.from).toHaveValue('');
});
