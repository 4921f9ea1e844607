// Takes docs/management-ui-trace.png: a traced saga message in the RabbitMQ management UI, from a real headless Chromium.
// Needs a running stack (`npm run stack`), Debian's chromium, and playwright-core installed OUTSIDE the project
// (it is not a dependency): `npm install --no-save playwright-core` in a temp dir, then PLAYWRIGHT_CORE=<dir>/node_modules/playwright-core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitFor } from '@ridehail/shared';
import { SagaApi } from '../test/support/system/api';
import { management, managementFromEnv, vhostOf } from '../test/support/system/broker';
import { scriptEnvOrExit } from '../test/support/system/env';
import { offset } from '../test/support/system/scenarios';
import { repoRoot, serviceUrlsFromEnv } from '../test/support/system/services';

// The few playwright-core calls used here, typed by hand since the package is not a project dependency.
interface Locator {
  first(): Locator;
  click(): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  waitForSelector(selector: string, options?: { timeout?: number; state?: 'attached' | 'visible' }): Promise<unknown>;
  locator(selector: string): Locator;
  selectOption(selector: string, value: string): Promise<unknown>;
  waitForFunction(expression: string, arg?: unknown, options?: { timeout?: number }): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
}
interface Browser {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[]; viewport: { width: number; height: number } },
    ): Promise<Browser>;
  };
}

const env = scriptEnvOrExit('screenshot:');
const traceName = env.TRACE_NAME;
const shotQueue = `${traceName}.screenshot`;

async function main(): Promise<void> {
  const pwPath = env.PLAYWRIGHT_CORE;
  if (!pwPath) throw new Error('set PLAYWRIGHT_CORE to a playwright-core folder installed outside the project');
  const loaded = (await import(pathToFileURL(require.resolve(path.resolve(pwPath))).href)) as Partial<Playwright> & {
    default?: Playwright;
  };
  const playwright = loaded.chromium ? (loaded as Playwright) : loaded.default;
  if (!playwright?.chromium) throw new Error(`${pwPath} is not playwright-core`);
  const out = path.resolve(env.OUT ?? path.join(repoRoot, 'docs', 'management-ui-trace.png'));
  const m = managementFromEnv(env);
  const vhost = vhostOf(env);
  const v = encodeURIComponent(vhost);
  const prefix = env.BROKER_PREFIX;
  const api = new SagaApi(serviceUrlsFromEnv(env));

  // Tracing on (as `npm run tracing` does), plus a queue that keeps only this run's payment events from the firehose.
  const traces = await management(m, 'GET', '/traces');
  const wasOn = Array.isArray(traces.body) && traces.body.length > 0;
  if (!wasOn) {
    const res = await management(m, 'PUT', `/traces/${v}/${encodeURIComponent(traceName)}`, {
      format: 'json',
      pattern: '#',
      tracer_connection_username: m.user,
      tracer_connection_password: m.password,
    });
    if (res.status >= 300) throw new Error(`could not turn tracing on: ${res.status}`);
  }
  await management(m, 'PUT', `/queues/${v}/${encodeURIComponent(shotQueue)}`, {
    durable: false,
    auto_delete: false,
    arguments: { 'x-max-length': 100 },
  });
  await management(m, 'POST', `/bindings/${v}/e/amq.rabbitmq.trace/q/${encodeURIComponent(shotQueue)}`, {
    routing_key: `publish.${prefix}payment.events`,
  });
  await management(m, 'DELETE', `/queues/${v}/${encodeURIComponent(shotQueue)}/contents`);

  let browser: Browser | undefined;
  try {
    // One saga whose payment messages the UI will show.
    const center = offset({ lat: 48.8566, lng: 2.3522 }, Math.random() * 20 - 10, Math.random() * 20 - 10);
    const tag = Date.now().toString(36);
    const rider = await api.createRider({ name: 'Ada Lovelace', email: `ada.${tag}@riders.example` });
    await api.createDriver({ name: 'Grace Hopper', email: `grace.${tag}@drivers.example`, location: offset(center, 0.4, 0.3) });
    const { rideId } = await api.requestRide({
      riderId: rider.id,
      pickup: center,
      dropoff: offset(center, 3, 2),
      paymentMethod: 'pm_card_visa',
    });
    await waitFor(async () => (await api.getRide(rideId)).status === 'CONFIRMED', {
      timeoutMs: 20_000,
      description: `ride ${rideId} to be CONFIRMED`,
    });
    await waitFor(
      async () => {
        const q = await management(m, 'GET', `/queues/${v}/${encodeURIComponent(shotQueue)}`);
        const count = (q.body as { messages?: number }).messages ?? 0;
        return count >= 2;
      },
      { timeoutMs: 15_000, intervalMs: 500, description: 'the traced payment events to be in the queue' },
    );
    process.stdout.write(`ride ${rideId} confirmed; its payment events are traced into ${shotQueue}\n`);

    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
    // A fresh profile each run (playwright passes it as --user-data-dir).
    browser = await playwright.chromium.launchPersistentContext(userDataDir, {
      viewport: { width: 1400, height: 1760 },
      executablePath: env.CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage();
    await page.goto(`${m.baseUrl}/`);
    await page.waitForSelector('input[name=username]');
    await page.fill('input[name=username]', m.user);
    await page.fill('input[name=password]', m.password);
    await page.click('input[type=submit][value=Login]');
    await page.waitForSelector('#logout', { timeout: 15_000 });
    // The UI redraws the page on its refresh timer, which would wipe the fetched messages: make that rare.
    await page.selectOption('#update-every', '30000');
    await page.goto(`${m.baseUrl}/#/queues/${v}/${encodeURIComponent(shotQueue)}`);
    // "Get messages" is a collapsed section: it exists before it is shown, and a click on its heading opens it.
    await page.waitForSelector('input[type=submit][value="Get Message(s)"]', { timeout: 15_000, state: 'attached' });
    // Fold the queue's charts away so the messages are the page.
    await page.locator('h2:text-is("Overview")').first().click();
    await page.locator('h2:text-is("Get messages")').first().click();
    await page.waitForSelector('input[type=submit][value="Get Message(s)"]', { timeout: 5_000 });
    await page.fill('input[name=count]', '2');
    await page.click('input[type=submit][value="Get Message(s)"]');
    await page.waitForSelector('#msg-wrapper h3:text-is("Message 2")', { timeout: 15_000, state: 'attached' });
    // The UI slides the messages up and down again (jQuery animations): wait until they are shown for good.
    await page.waitForFunction(
      "(() => { const w = document.querySelector('#msg-wrapper'); return !!w && w.offsetHeight > 200 && !window.jQuery('#msg-wrapper').is(':animated'); })()",
      undefined,
      { timeout: 10_000 },
    );
    // A viewport shot: a full-page one resizes the window, and the UI redraws itself (dropping the messages) on resize.
    await page.screenshot({ path: out });
    process.stdout.write(`wrote ${path.relative(process.cwd(), out)} (ride ${rideId})\n`);
  } finally {
    if (browser) await browser.close();
    await management(m, 'DELETE', `/queues/${v}/${encodeURIComponent(shotQueue)}`);
    if (!wasOn) {
      // Leave tracing as it was: off, and without the log this run started.
      await management(m, 'DELETE', `/traces/${v}/${encodeURIComponent(traceName)}`);
      await management(m, 'DELETE', `/trace-files/${encodeURIComponent(`${traceName}.log`)}`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshot: ${(err as Error).message}\n`);
  process.exit(1);
});
