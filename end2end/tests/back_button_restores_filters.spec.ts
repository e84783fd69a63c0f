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
  // Back after a reload is followed by the tab, which listens once the reloaded page has hydrated.
  await tab.waitForHydration();
  await page.goBack();
  await expect(tab.status).toHaveText('Showing 1–7 of 7 events');
});

test('after Back every control shows the state of the URL again', async ({ page, request }) => {
  const source = marker('controls');
  await ingest(request, [
    ...Array.from({ length: 3 }, () => ({ action: 'user.update', source, actor: { type: 'system', name: 'hr' } })),
    ...Array.from({ length: 2 }, () => ({ action: 'mailbox.create', source, actor: { type: 'system', name: 'ops' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await tab.action.selectOption('user.update');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await tab.actor.fill('ops');
  await tab.actor.press('Enter');
  // Each step is a history entry of its own once its rows have arrived.
  await expect(tab.status).toHaveText('No events match these filters');
  await tab.action.selectOption('mailbox.create');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await page.goBack();
  await expect(tab.status).toHaveText('No events match these filters');
  await expect(tab.action).toHaveValue('user.update');
  await expect(tab.actor).toHaveValue('ops');
  await page.goBack();
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(tab.actor).toHaveValue('');
});
