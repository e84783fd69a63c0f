import { expect, test } from '@playwright/test';
import { ADMIN, AuditLogPage, signIn } from './fixtures/audit_log_page';

test('a settings change in the panel is recorded with its diff', async ({ page }) => {
  const relay = `relay-${Date.now()}.acme.com`;
  await signIn(page, ADMIN, '/admin/settings');
  const field = page.getByLabel('smtp_relay');
  const before = await field.inputValue();
  await field.fill(relay);
  await page.getByRole('button', { name: 'Save smtp_relay' }).click();
  await expect(page.getByLabel('smtp_relay')).toHaveValue(relay);

  const tab = new AuditLogPage(page);
  await tab.goto('action=settings.update&target_id=smtp_relay');
  await expect(tab.rows.first()).toContainText(relay);
  await tab.rows.first().getByRole('button', { name: 'View details' }).click();
  const diff = tab.detail.getByRole('table');
  await expect(diff.getByRole('row').nth(1)).toHaveText(new RegExp(`smtp_relay\\s*${before.replace(/\./g, '\\.')}\\s*${relay.replace(/\./g, '\\.')}`));
  await expect(tab.detail).toContainText(ADMIN.email);
});

test('an admin creates an API token in Settings, sees it once, and revokes it', async ({ page, request }) => {
  const name = `script-${Date.now()}`;
  await signIn(page, ADMIN, '/admin/settings');
  await page.getByLabel('Token name').fill(name);
  await page.getByLabel('Scopes').selectOption('read');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.locator('code.token').innerText()).trim();
  expect(token).toMatch(/^alk_/);
  const ok = await request.get('/api/v1/events?page_size=1', { headers: { Authorization: `Bearer ${token}` } });
  expect(ok.status()).toBe(200);
  const ingest = await request.post('/api/v1/events', {
    headers: { Authorization: `Bearer ${token}` }, data: { action: 'a.b', actor: { type: 'system', name: 'x' } },
  });
  expect(ingest.status()).toBe(403);

  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByRole('table', { name: 'API tokens' }).getByRole('row', { name: new RegExp(name) })).toContainText('revoked');
  const gone = await request.get('/api/v1/events?page_size=1', { headers: { Authorization: `Bearer ${token}` } });
  expect(gone.status()).toBe(401);
});

test('the retention select saves, shows the saved value, and the change is recorded', async ({ page }) => {
  await signIn(page, ADMIN, '/admin/settings');
  const keep = page.getByLabel('Keep events for');
  await expect(keep).toHaveValue('');
  await keep.selectOption({ label: '180 days' });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Retention saved.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Keep events for')).toHaveValue('180');

  const tab = new AuditLogPage(page);
  await tab.goto('action=settings.update&target_id=retention_days');
  await tab.rows.first().getByRole('button', { name: 'View details' }).click();
  const diff = tab.detail.getByRole('table');
  await expect(diff.getByRole('row').nth(1)).toHaveText(/retention_days\s*forever\s*180/);
  // Back to keeping everything, so that the other tests' events stay.
  await signIn(page, ADMIN, '/admin/settings');
  await page.getByLabel('Keep events for').selectOption({ label: 'Forever' });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Retention saved.' })).toBeVisible();
});
