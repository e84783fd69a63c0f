import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

test('the Sign-ins view shows who signed in, from where and with what; Activity shows the rest', async ({ page, request }) => {
  const server = marker('views');
  await ingest(request, [
    { action: 'auth.login', source: server, actor: { type: 'user', email: 'ana@example.com' }, ip: '203.0.113.7', user_agent: CHROME },
    { action: 'auth.login', outcome: 'failure', source: server, actor: { type: 'user', email: 'bob@example.com' }, ip: '198.51.100.4', user_agent: FIREFOX },
    ...Array.from({ length: 3 }, () => ({ action: 'mailbox.create', source: server, actor: { type: 'user', id: 'u1' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${server}`);
  await tab.waitForHydration();
  const views = page.getByRole('tablist', { name: 'Log views' });
  await expect(views.getByRole('tab')).toHaveText(['All events', 'Sign-ins', 'Activity']);
  await expect(views.getByRole('tab', { name: 'All events' })).toHaveAttribute('aria-selected', 'true');
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');

  await views.getByRole('tab', { name: 'Sign-ins' }).click();
  await expect(page).toHaveURL(/view=signins/);
  await expect(views.getByRole('tab', { name: 'Sign-ins' })).toHaveAttribute('aria-selected', 'true');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(tab.table.getByRole('columnheader')).toHaveText([/^Time/, 'Outcome', 'Account', 'IP address', 'Browser', 'Actions']);
  await expect(tab.rows.nth(0)).toContainText('Failure');
  await expect(tab.rows.nth(0)).toContainText('bob@example.com');
  await expect(tab.rows.nth(0)).toContainText('Firefox 133 on Linux');
  await expect(tab.rows.nth(1)).toContainText('Success');
  await expect(tab.rows.nth(1)).toContainText('Chrome 131 on Windows 10');
  await expect(tab.source).toHaveValue(server);
  // The Action select offers the view's actions only, by their labels, the key in the title.
  const signedIn = tab.action.locator('option[value="auth.login"]');
  await expect(signedIn).toHaveText('Signed in (2)');
  await expect(signedIn).toHaveAttribute('title', 'auth.login');
  await expect(tab.action.locator('option[value="mailbox.create"]')).toHaveCount(0);

  // The filters keep working in the view, and the view stays when they change.
  await tab.outcome.selectOption('failure');
  await expect(tab.status).toHaveText('Showing 1–1 of 1 events');
  await expect(page).toHaveURL(/view=signins/);
  await tab.outcome.selectOption('');
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');

  await views.getByRole('tab', { name: 'Activity' }).click();
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
  await expect(tab.columnHeader('Target')).toBeVisible();
  await expect(tab.rows.first()).toContainText('mailbox.create');

  // A reload (or a shared link) opens the same view.
  await page.reload();
  await expect(views.getByRole('tab', { name: 'Activity' })).toHaveAttribute('aria-selected', 'true');
  await expect(tab.status).toHaveText('Showing 1–3 of 3 events');
});
