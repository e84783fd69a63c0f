import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { AuditLogPage, ingest, marker } from './fixtures/audit_log_page';

test('Export downloads every matching event, not only the visible page', async ({ page, request }) => {
  const source = marker('export');
  await ingest(request, Array.from({ length: 15 }, (_, i) => ({
    action: 'mailbox.create', source, actor: { type: 'user', name: `=cmd|${i}` },
  })));
  const tab = new AuditLogPage(page);
  await tab.goto(`source=${source}&page_size=10`);
  await expect(tab.rows).toHaveCount(10);
  await tab.exportFormat.selectOption('CSV');
  const [download] = await Promise.all([page.waitForEvent('download'), tab.exportButton.click()]);
  expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = readFileSync(await download.path(), 'utf8');
  expect(text.charCodeAt(0)).toBe(0xfeff);
  const lines = text.slice(1).trimEnd().split('\r\n');
  expect(lines[0]).toBe('id,timestamp,action,outcome,actor_type,actor_id,actor_name,actor_email,target_type,target_id,target_name,source,tenant,ip,user_agent,details');
  expect(lines).toHaveLength(16);
  expect(lines[1]).toContain("'=cmd|");
});
