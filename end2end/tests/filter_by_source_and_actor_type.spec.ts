import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('the Source and Actor type selects filter the rows and show the state of the URL', async ({ page, request }) => {
  const mx1 = marker('mx1');
  const mx2 = marker('mx2');
  await ingest(request, [
    ...Array.from({ length: 3 }, () => ({ action: 'mailbox.create', source: mx1, actor: { type: 'system', name: 'cron' } })),
    ...Array.from({ length: 2 }, () => ({ action: 'mailbox.delete', source: mx1, actor: { type: 'api_token', id: 'ci' } })),
    ...Array.from({ length: 4 }, () => ({ action: 'mailbox.update', source: mx2, actor: { type: 'user', id: 'u1' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${mx1}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  await expect(tab.source).toHaveValue(mx1);
  await expect(tab.source.locator('option').first()).toHaveText('All sources');
  // Each type with how many of this source's events it has.
  await expect(tab.actorType.locator('option')).toHaveText(['All', 'User (0)', 'API token (2)', 'System (3)']);

  await tab.actorType.selectOption('api_token');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(page).toHaveURL(/actor_type=api_token/);

  await tab.source.selectOption(mx2);
  await expect(tab.status).toHaveText('No events match these filters');
  await tab.actorType.selectOption('user');
  await expect(tab.status).toHaveText('Showing 1–4 of 4 events');
  await expect(page).toHaveURL(new RegExp(`source=${mx2}.*actor_type=user|actor_type=user.*source=${mx2}`));

  await page.goBack();
  await expect(tab.status).toHaveText('No events match these filters');
  await expect(tab.actorType).toHaveValue('api_token');
  await expect(tab.source).toHaveValue(mx2);
});
