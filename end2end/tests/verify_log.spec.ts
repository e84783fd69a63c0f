import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('Verify log checks the whole log, says it verified, and is recorded', async ({ page, request }) => {
  await ingest(request, [{ action: 'domain.create', actor: { type: 'user', name: marker('verify') } }]);
  const tab = new AuditLogPage(page);
  await tab.goto('');
  await tab.waitForHydration();
  await page.getByRole('button', { name: 'Verify log' }).click();
  const verified = page.getByRole('status').filter({ hasText: 'Log verified' });
  await expect(verified).toHaveText(/^Log verified: [\d,]+ events up to \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await tab.goto('action=audit.verify');
  await expect(tab.rows.first()).toContainText('Audit log verified');
  await expect(tab.rows.first().getByTitle('audit.verify')).toBeVisible();
});
