import { expect, test } from '@playwright/test';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

// The size check (scripts/wasm_size.sh) measures the main WASM file: this holds the tab to it, and checks that
// the panel's Users and Settings pages, whose code is in files of their own, load them and work.
test('the audit log tab downloads one WASM file; the Users and Settings pages load theirs', async ({ page, request }) => {
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
  for (const [link, label, file] of [
    ['Users', 'New user email', 'users'],
    ['Settings', 'smtp_relay', 'settings'],
  ]) {
    wasm.length = 0;
    await nav.getByRole('link', { name: link }).click();
    await expect(page.getByRole('heading', { name: link })).toBeVisible();
    await expect(nav.getByRole('link', { name: link })).toHaveAttribute('aria-current', 'page');
    // Hydrated: the mark is set by the page's own file, once it has loaded.
    await tab.waitForHydration();
    await expect(page.getByLabel(label)).toBeVisible();
    expect(wasm.filter((name) => name.includes(file))).toHaveLength(1);
  }
});
