import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('each menu option shows how many events it gives with the other filters, and follows them', async ({ page, request }) => {
  const server = marker('counts');
  const other = marker('other');
  await ingest(request, [
    ...Array.from({ length: 3 }, () => ({ action: 'mailbox.create', source: server, actor: { type: 'user', id: 'u1' } })),
    ...Array.from({ length: 2 }, () => ({ action: 'mailbox.delete', source: server, actor: { type: 'api_token', id: 'ci' } })),
    { action: 'domain.delete', source: other, actor: { type: 'user', id: 'u2' } },
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  const option = (select: typeof tab.action, value: string) => select.locator(`option[value="${value}"]`);
  await expect(option(tab.action, 'mailbox.create')).toHaveText('mailbox.create (3)');
  await expect(option(tab.action, 'mailbox.delete')).toHaveText('mailbox.delete (2)');
  await expect(option(tab.action, 'domain.delete')).toHaveText(/^domain\.delete \(\d+\)$/);
  await expect(option(tab.verb, 'delete')).toHaveText('delete (2)');
  await expect(option(tab.actorType, 'api_token')).toHaveText('API token (2)');
  // The Source menu counts without its own filter: the other server is offered with its events.
  await expect(option(tab.source, other)).toHaveText(`${other} (1)`);

  // Another filter changes every other menu's counts.
  await tab.actorType.selectOption('user');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(option(tab.action, 'mailbox.delete')).toHaveText('mailbox.delete (0)');
  await expect(option(tab.verb, 'create')).toHaveText('create (3)');
  await expect(option(tab.actorType, 'api_token')).toHaveText('API token (2)');
  // An option with none stays selectable.
  await tab.action.selectOption('mailbox.delete');
  await expect(tab.status).toHaveText('No events match these filters');
});
