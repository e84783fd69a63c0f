import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('View details opens a dialog with every field and a diff; Escape closes it', async ({ page, request }) => {
  const who = marker('detail');
  const [id] = await ingest(request, [{
    action: 'user.role_change', actor: { type: 'user', name: who }, ip: '203.0.113.42',
    target: { type: 'user', id: '9', name: 'carol@example.com' },
    details: { changes: { role: { from: 'viewer', to: 'admin' } }, script: '<script>alert(1)</script>' },
  }]);
  const tab = new AuditLogPage(page);
  await tab.goto(`actor=${who}`);
  await tab.waitForHydration();
  await expect(tab.rows.first()).toContainText('203.0.113.xxx');
  await tab.rows.first().getByRole('button', { name: 'View details' }).click();
  await expect(tab.detail).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`event=${id}`));
  const diff = tab.detail.getByRole('table');
  await expect(diff.getByRole('columnheader')).toHaveText(['Field', 'Before', 'After']);
  await expect(diff.getByRole('row').nth(1)).toHaveText(/role\s*viewer\s*admin/);
  await expect(tab.detail).toContainText('<script>alert(1)</script>');
  // The table masks the address; the detail an admin opened is the one place it is shown whole.
  await expect(tab.detail).toContainText('203.0.113.42');
  // Who put it in the log (the token the test ingests with), and where it is in the signed log.
  await expect(tab.detail.locator('dt', { hasText: 'Recorded by' }).locator('+ dd')).toHaveText(/^token e2e \(/);
  await expect(tab.detail.locator('dt', { hasText: 'Integrity' }).locator('+ dd')).toHaveText(/^Log index [\d,]+, /);
  await page.keyboard.press('Escape');
  await expect(tab.detail).toHaveCount(0);
  await expect(page).not.toHaveURL(/event=/);
  // A shared link opens the same detail.
  await tab.goto(`actor=${who}&event=${id}`);
  await expect(tab.detail).toContainText('carol@example.com');
});
