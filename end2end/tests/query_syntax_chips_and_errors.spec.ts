import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('field:value terms in the search box become filters and chips; a mistake is shown and sends nothing', async ({ page, request }) => {
  const server = marker('syntax');
  await ingest(request, [
    ...Array.from({ length: 3 }, (_, i) => ({ action: 'mailbox.create', source: server, ip: `203.0.113.${i + 1}`, actor: { type: 'user', id: 'u1', name: 'Ana Lima' } })),
    ...Array.from({ length: 2 }, () => ({ action: 'mailbox.delete', outcome: 'failure', source: server, ip: '2001:db8::5', actor: { type: 'user', id: 'u2' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');

  await tab.search.fill('action:mailbox.* outcome:failure');
  await tab.search.press('Enter');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(page).toHaveURL(/category=mailbox/);
  await expect(page).toHaveURL(/outcome=failure/);
  // The controls follow the terms, and each term is a chip.
  await expect(tab.action).toHaveValue('mailbox.*');
  await expect(tab.outcome).toHaveValue('failure');
  await expect(tab.search).toHaveValue('');
  await expect(page.getByRole('button', { name: 'Remove action:mailbox.*' })).toBeVisible();
  await expect(page.getByRole('button', { name: `Remove source:${server}` })).toBeVisible();

  await page.getByRole('button', { name: 'Remove outcome:failure' }).click();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  await expect(tab.outcome).toHaveValue('');

  // A value with a space is quoted; it reads back the same way.
  await tab.search.fill('actor:"Ana Lima"');
  await tab.search.press('Enter');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(page.getByRole('button', { name: 'Remove actor:"Ana Lima"' })).toBeVisible();

  // Everyone but an actor.
  await page.getByRole('button', { name: 'Remove actor:"Ana Lima"' }).click();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  await tab.search.fill('-actor:"Ana Lima"');
  await tab.search.press('Enter');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(page).toHaveURL(/exclude_actor=Ana/);
  await expect(page.getByRole('button', { name: 'Remove -actor:"Ana Lima"' })).toBeVisible();

  // An address range: the network's events, as a chip.
  await page.getByRole('button', { name: 'Remove -actor:"Ana Lima"' }).click();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  await tab.search.fill('ip:203.0.113.0/24');
  await tab.search.press('Enter');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(page).toHaveURL(/ip=203\.0\.113\.0%2F24/);
  await expect(page.getByRole('button', { name: 'Remove ip:203.0.113.0/24' })).toBeVisible();

  // A mistake: shown where it is, and nothing is sent.
  const before = page.url();
  await tab.search.fill('acter:bob');
  await tab.search.press('Enter');
  await expect(page.getByRole('alert')).toHaveText('Unknown field "acter": did you mean "actor"?');
  await expect(page.locator('.syntax-at')).toHaveText('acter:bob\n^');
  await expect(tab.search).toHaveAttribute('aria-invalid', 'true');
  await page.waitForTimeout(500);
  expect(page.url()).toBe(before);
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  // A term whose value its filter refuses is a mistake too.
  await tab.search.fill('ip:203.0.113.0/33');
  await tab.search.press('Enter');
  await expect(page.getByRole('alert')).toContainText('"ip" must be an IP address or a network in CIDR notation');
  await page.waitForTimeout(500);
  expect(page.url()).toBe(before);
});
