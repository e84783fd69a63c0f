import { expect, test } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ingest, marker, signIn } from './fixtures/audit_log_page';

type Received = { headers: IncomingHttpHeaders; body: string };

/** A webhook receiver on 127.0.0.1 that answers 200 and keeps what it got. */
async function startReceiver() {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, got, close: () => server.close() };
}

/** Standard Webhooks 1.0, checked with Node's own HMAC: one `v1,` entry is the secret's signature. */
function signedBy(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const content = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
  const expected = `v1,${createHmac('sha256', key).update(content).digest('base64')}`;
  return String(r.headers['webhook-signature']).split(' ').includes(expected);
}

test('an admin adds a webhook endpoint, sends a test event and sees the deliveries listed', async ({ page, request }) => {
  const receiver = await startReceiver();
  try {
    await signIn(page, undefined, '/admin/settings');
    await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const form = page.getByRole('form', { name: 'Add a webhook endpoint' });
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Description').fill('SIEM');
    await form.getByLabel('Actions').fill('order.*');
    await expect(form.getByLabel('Format')).toHaveValue('standard');
    await expect(form.getByLabel('Enabled')).toBeChecked();
    await form.getByRole('button', { name: 'Save' }).click();
    const secret = (await page.getByLabel('Signing secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const endpoint = page.getByRole('region', { name: `Webhook ${receiver.url}` });
    await expect(endpoint.locator('.webhook-state')).toHaveText('Healthy');
    await endpoint.getByRole('button', { name: 'Send test event' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Test event' })).toContainText('Test event delivered: HTTP 200');
    const deliveries = endpoint.getByRole('table', { name: `Deliveries to ${receiver.url}` });
    await expect(deliveries.getByRole('row')).toHaveCount(2);
    await expect(deliveries.getByRole('row').nth(1).getByRole('cell').nth(3)).toHaveText('200');
    expect(receiver.got).toHaveLength(1);
    expect(JSON.parse(receiver.got[0].body).type).toBe('webhook.test');
    expect(signedBy(secret, receiver.got[0])).toBe(true);

    // An event that matches is delivered by the server within moments, and listed after a reload.
    const [id] = await ingest(request, [{ action: 'order.create', actor: { type: 'user', id: marker('buyer') } }]);
    await expect.poll(() => receiver.got.length).toBe(2);
    expect(receiver.got[1].headers['webhook-id']).toBe(id);
    expect(signedBy(secret, receiver.got[1])).toBe(true);
    expect(JSON.parse(receiver.got[1].body).data.id).toBe(id);
    await page.reload();
    await expect(deliveries.getByRole('row').nth(1).getByRole('cell').first()).toHaveText(id);

    // Disable and enable it again; rotate its secret (the new one is shown once).
    await endpoint.getByRole('button', { name: 'Disable' }).click();
    await expect(endpoint.locator('.webhook-state')).toHaveText('Disabled');
    await endpoint.getByRole('button', { name: 'Enable' }).click();
    await expect(endpoint.locator('.webhook-state')).toHaveText('Healthy');
    await endpoint.getByRole('button', { name: 'Rotate secret' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Secret rotated' })).toBeVisible();
    const rotated = (await page.getByLabel('Signing secret').textContent())!.trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    await endpoint.getByRole('button', { name: 'Remove' }).click();
    await expect(page.getByText('No webhook endpoint yet.')).toBeVisible();
  } finally {
    receiver.close();
  }
});
