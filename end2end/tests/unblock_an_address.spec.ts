import { expect, test } from '@playwright/test';
import { AuditLogPage, signIn } from './fixtures/audit_log_page';

test('an admin sees an address blocked after failed sign-ins and unblocks it, which is recorded', async ({ page, request, baseURL }) => {
  await signIn(page, undefined, '/admin/settings');
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  // Failed sign-ins from this machine (the tests' own address) until it is blocked.
  const attacker = `mallory-${Date.now()}@example.com`;
  let status = 0;
  for (let i = 0; i < 8 && status !== 429; i++) {
    const resp = await request.post('/login', { form: { email: attacker, password: 'guess' }, maxRedirects: 0 });
    status = resp.status();
  }
  expect(status).toBe(429);
  try {
    await page.reload();
    const blocked = page.getByRole('table', { name: 'Blocked addresses' });
    await expect(blocked.getByRole('columnheader')).toHaveText(['Address', 'Failures', 'Blocked until', '']);
    const row = blocked.getByRole('row', { name: /127\.0\.0\.1/ });
    await expect(row.getByRole('cell').nth(1)).toHaveText('5');
    await expect(row.getByRole('cell').nth(2)).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await row.getByRole('button', { name: 'Unblock' }).click();
    await expect(page.getByRole('status')).toHaveText('Address unblocked.');
    await expect(page.getByText('No address is blocked.')).toBeVisible();
  } finally {
    // Whatever happened above, the next tests must be able to sign in from this address.
    await page.request.post('/api/fn/unblock_ip', { form: { address: '127.0.0.1' }, headers: { origin: baseURL! } });
  }

  const tab = new AuditLogPage(page);
  await tab.goto('action=auth.ip_unblocked');
  await expect(tab.rows.first()).toContainText('Address unblocked');
  await expect(tab.rows.first().getByTitle('auth.ip_unblocked')).toBeVisible();
  await expect(tab.rows.first()).toContainText('127.0.0.1');
});
