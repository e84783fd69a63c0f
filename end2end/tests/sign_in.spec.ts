import { expect, test } from '@playwright/test';
import { ADMIN, AuditLogPage, apiToken, createViewer, signIn } from './fixtures/audit_log_page';

test('an admin signs in, sees the Audit Log link and signs out', async ({ page }) => {
  await signIn(page, ADMIN, '/admin');
  const nav = page.getByRole('navigation', { name: 'Admin' });
  for (const link of ['Overview', 'Users', 'Settings', 'Audit Log']) {
    await expect(nav.getByRole('link', { name: link })).toBeVisible();
  }
  await nav.getByRole('link', { name: 'Audit Log' }).click();
  await expect(new AuditLogPage(page).heading).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await page.goto('/admin/audit-log');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('a failed sign-in says so without telling which part was wrong, and is recorded', async ({ page, request }) => {
  await signIn(page, { email: ADMIN.email, password: 'not-the-password' });
  await expect(page.getByText('Invalid email or password')).toBeVisible();
  await signIn(page, { email: 'nobody@example.com', password: 'not-the-password' });
  await expect(page.getByText('Invalid email or password')).toBeVisible();
  const resp = await request.get('/api/v1/events?action=auth.login&outcome=failure&actor=nobody@example.com', {
    headers: { Authorization: `Bearer ${apiToken()}` },
  });
  expect((await resp.json()).total).toBe(1);
});

test('a viewer sees no Audit Log link and gets the 403 page at its URL', async ({ page }) => {
  const email = `viewer-${Date.now()}@example.com`;
  await createViewer(page, email, 'viewer-password-1');
  await signIn(page, { email, password: 'viewer-password-1' }, '/admin');
  const nav = page.getByRole('navigation', { name: 'Admin' });
  await expect(nav.getByRole('link', { name: 'Users' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Audit Log' })).toHaveCount(0);
  const resp = await page.goto('/admin/audit-log');
  expect(resp?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: /403/ })).toBeVisible();
});
