import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

// The size check (scripts/wasm_size.sh) measures the main WASM file: this holds the tab to it, and checks that
// the panel's other tabs, split into files of their own, are loaded when they are opened and work.
test('the audit log tab downloads one WASM file; Users and Settings load theirs when opened', async ({ page, request }) => {
  const server = marker('split');
  await ingest(request, [{ action: 'mailbox.create', source: server, actor: { type: 'user', id: 'u1' } }]);
  const wasm: string[] = [];
  page.on('request', (req) => {
    const name = new URL(req.url()).pathname.split('/').pop() ?? '';
    if (name.endsWith('.wasm')) wasm.push(name);
  });
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${server}`);
  // Signed in; now what the tab's own page loads.
  wasm.length = 0;
  await page.reload();
  await tab.waitForHydration();
  // Hydrated, with the menus' live counts (a server function) answered: all the tab needs is loaded.
  await expect(tab.actorType.locator('option[value="user"]')).toHaveText('User (1)');
  expect(wasm).toEqual(['auditlog.wasm']);

  const nav = page.getByRole('navigation', { name: 'Admin' });
  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  await expect(page.getByLabel('New user email')).toBeVisible();
  expect(wasm.length).toBeGreaterThan(1);
  const afterUsers = wasm.length;

  await nav.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(page.getByLabel('smtp_relay')).toBeVisible();
  expect(wasm.length).toBeGreaterThan(afterUsers);
  expect(wasm.filter((name) => name === 'auditlog.wasm')).toHaveLength(1);
});
