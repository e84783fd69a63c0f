import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('typing in the search box filters after a pause; Enter filters at once', async ({ page, request }) => {
  const needle = marker('needle');
  await ingest(request, [
    { action: 'mailbox.update', actor: { type: 'user', name: 'Zoë' }, details: { note: `${needle} one` } },
    { action: 'mailbox.update', actor: { type: 'user', name: 'Zoë' }, target: { type: 'mailbox', name: `${needle}@acme.com` } },
    { action: 'mailbox.update', actor: { type: 'user', name: 'Zoë' }, details: { note: 'unrelated' } },
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto();
  await tab.waitForHydration();
  await tab.search.pressSequentially(needle, { delay: 5 });
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(page).toHaveURL(new RegExp(`q=${needle}`));
  await tab.search.fill(`${needle}-nothing`);
  await tab.search.press('Enter');
  await expect(tab.status).toHaveText('No events match these filters');
});
