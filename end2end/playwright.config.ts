import { defineConfig } from '@playwright/test';

const port = Number(process.env.AUDITLOG_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// A second server, the whole app under a base path, as behind a host's reverse proxy (*.basepath.spec.ts).
const basePathPort = port + 1;

const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  // Without the background-networking flags Chromium floods the closed network with refused connections.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: { baseURL, acceptDownloads: true, launchOptions: chromium, trace: 'retain-on-failure' },
  projects: [
    // The server-rendered page, before (or without) the WASM.
    { name: 'no-js', use: { javaScriptEnabled: false }, testMatch: /.*\.nojs\.spec\.ts/ },
    // The hydrated page.
    { name: 'hydrated', use: { javaScriptEnabled: true }, testIgnore: /.*\.(nojs|basepath)\.spec\.ts/ },
    // The hydrated page under `--base-path /admin/audit`, on the second server.
    {
      name: 'base-path',
      use: { javaScriptEnabled: true, baseURL: `http://127.0.0.1:${basePathPort}` },
      testMatch: /.*\.basepath\.spec\.ts/,
    },
  ],
  webServer: [
    {
      command: './start-server.sh',
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: './start-server.sh',
      url: `http://127.0.0.1:${basePathPort}/admin/audit/healthz`,
      env: {
        AUDITLOG_E2E_PORT: String(basePathPort),
        AUDITLOG_E2E_TMP: 'end2end/.tmp-base-path',
        AUDITLOG_BASE_PATH: '/admin/audit',
      },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
