import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('an admin of the whole log filters by tenant, all tenants first', async ({ page, request }) => {
  const source = marker('tenants');
  const [acme, globex] = [marker('acme'), marker('globex')];
  await ingest(request, [
    ...Array.from({ length: 3 }, () => ({ action: 'domain.create', source, tenant: acme, actor: { type: 'user', name: 'ann' } })),
    ...Array.from({ length: 2 }, () => ({ action: 'domain.create', source, tenant: globex, actor: { type: 'user', name: 'gus' } })),
  ]);
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}`);
  await tab.waitForHydration();
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
  const tenant = page.getByLabel('Tenant');
  await expect(tenant.locator('option').first()).toHaveText('All tenants');
  await tenant.selectOption(globex);
  await expect(tab.status).toHaveText('Showing 1–2 of 2 events');
  await expect(page).toHaveURL(new RegExp(`tenant=${globex}`));
  await page.reload();
  await expect(tenant).toHaveValue(globex);
  await tenant.selectOption('');
  await expect(tab.status).toHaveText('Showing 1–5 of 5 events');
});
