// The served contract end to end: the four services as separate processes, each GET /openapi.json a valid OpenAPI 3.1
// document, every answer they give (successes and problem+json errors) valid against it, and /docs in headless Chromium.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { waitFor } from '@ridehail/shared';
import type { ServiceKey } from '../support/system/services';
import { announceLane } from '../support/lanes';
import { resolveMongo, type MongoTarget } from '../support/mongo';
import { documentedRoutes, openApiErrors, ResponseValidator, type OpenApiDoc } from '../support/openapi';
import { resolveRabbit, uniquePrefix, unreachableReason, type RabbitTarget } from '../support/rabbit';
import { releaseLaneResources } from '../support/stack';
import { startStack, type Stack } from '../support/system/stack';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Without the background-networking flags Chromium's own connections are refused here and it stalls. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SERVICE_KEYS: ServiceKey[] = ['ride', 'driver', 'payment', 'notification'];
const PICKUP = { lat: 48.8566, lng: 2.3522 };
const DROPOFF = { lat: 48.8738, lng: 2.295 };

interface Call {
  /** The path as documented (`/rides/{id}`); `path` is the concrete one when it differs. */
  template: string;
  path?: string;
  body?: unknown;
  /** Sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked against the document, then read freely
type Answer = any;

describe('the OpenAPI contract end to end: four services as processes, their answers against their documents', function () {
  this.timeout(60_000);
  const run = randomBytes(3).toString('hex');
  const brokerPrefix = uniquePrefix('oapi');
  const mongoDbPrefix = `oapi_${run}_`;
  let rabbit: RabbitTarget | undefined;
  let mongo: MongoTarget | null = null;
  let stack: Stack | undefined;
  const docs = {} as Record<ServiceKey, OpenApiDoc>;
  const validators = {} as Record<ServiceKey, ResponseValidator>;
  /** `ride GET /rides/{id} 200` for every answer checked. */
  const answered = new Set<string>();
  const logTail: string[] = [];

  /** One request; its status must be `expected`, and the answer (body and headers) valid against the service's document. */
  async function call(service: ServiceKey, method: string, c: Call, expected: number): Promise<Answer> {
    const url = `${stack!.urls[service]}${c.path ?? c.template}`;
    const headers: Record<string, string> = { ...c.headers };
    let body: string | undefined;
    if (c.raw !== undefined || c.body !== undefined) {
      headers['content-type'] = c.contentType ?? 'application/json';
      body = c.raw ?? JSON.stringify(c.body);
    }
    const res = await fetch(url, { method, headers, body });
    const contentType = res.headers.get('content-type');
    const text = await res.text();
    const parsed: unknown = /[/+]json\b/.test(contentType ?? '') ? JSON.parse(text) : text;
    expect(res.status, `${method} ${url} → ${res.status} ${text.slice(0, 300)}`).to.equal(expected);
    if (res.status >= 400) expect(contentType, `${method} ${url}`).to.match(/^application\/problem\+json/);
    const problems = validators[service].check(method, c.template, {
      status: res.status,
      contentType,
      body: parsed,
      headers: Object.fromEntries(res.headers.entries()),
    });
    expect(problems, `${method} ${url} → ${res.status} ${text.slice(0, 300)}`).to.deep.equal([]);
    answered.add(`${service} ${method} ${c.template} ${res.status}`);
    return parsed;
  }

  before(async function () {
    this.timeout(150_000);
    rabbit = await resolveRabbit();
    const unreachable = await unreachableReason(rabbit.url);
    if (unreachable) {
      announceLane('e2e/openapi', 'did not run', `no broker: ${unreachable}`);
      throw new Error(`the OpenAPI e2e test needs RabbitMQ: ${unreachable}`);
    }
    mongo = await resolveMongo();
    stack = await startStack({
      amqpUrl: rabbit.url,
      mongoUrl: mongo?.url,
      brokerPrefix,
      mongoDbPrefix,
      ports: 'free',
      logLevel: 'warn',
      env: { RETRY_DELAYS_MS: '200,500,1000', MAX_ATTEMPTS: '5', SHUTDOWN_TIMEOUT_MS: '10000' },
      output: (service, line) => {
        logTail.push(`[${service.name}] ${line}`);
        if (logTail.length > 200) logTail.shift();
      },
      readyTimeoutMs: 120_000,
    }).catch((err: unknown) => {
      announceLane('e2e/openapi', 'did not run', `the services did not start: ${(err as Error).message.split('\n')[0] ?? ''}`);
      throw err;
    });
    announceLane('e2e/openapi', 'ran', `four services as processes, ${mongo ? mongo.url : 'memory (no MONGO_URL and no Docker)'}`);
    for (const key of SERVICE_KEYS) {
      const res = await fetch(`${stack.urls[key]}/openapi.json`);
      expect(res.status).to.equal(200);
      docs[key] = (await res.json()) as OpenApiDoc;
      validators[key] = new ResponseValidator(docs[key]);
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stdout.write(`last service log lines:\n${logTail.slice(-40).join('\n')}\n`);
  });

  after(async function () {
    this.timeout(60_000);
    const codes = stack ? await stack.stop() : {};
    await releaseLaneResources({ rabbit, brokerPrefix, mongo, mongoDbPrefix });
    for (const [name, code] of Object.entries(codes)) expect(code, `${name} exit code after SIGTERM`).to.equal(0);
  });

  it('serves a valid OpenAPI 3.1 document on every service (@readme/openapi-parser)', async () => {
    for (const key of SERVICE_KEYS) {
      expect(docs[key].openapi, key).to.match(/^3\.1\.\d+$/);
      expect(await openApiErrors(docs[key]), key).to.deep.equal([]);
      await call(key, 'GET', { template: '/openapi.json' }, 200);
    }
    // The validator says no to answers that drift from the document: a wrong type, an undocumented field, a bare error.
    const json = 'application/json';
    expect(validators.ride.check('GET', '/rides/{id}', { status: 200, contentType: json, body: { id: 1 } })).to.not.be.empty;
    const problem = { type: 'https://ridehail.example/problems/not-found', title: 'Not Found', status: 404, detail: 'ride x not found' };
    const asProblem = 'application/problem+json';
    expect(validators.ride.check('GET', '/rides/{id}', { status: 404, contentType: asProblem, body: problem })).to.deep.equal([]);
    expect(validators.ride.check('GET', '/rides/{id}', { status: 404, contentType: asProblem, body: { ...problem, stack: 'at …' } })).to.not
      .be.empty;
    expect(validators.ride.check('GET', '/rides/{id}', { status: 404, contentType: json, body: problem })).to.not.be.empty;
    expect(validators.ride.check('POST', '/riders', { status: 201, contentType: json, body: {}, headers: {} })).to.not.be.empty;
  });

  it('answers the probes and /docs as documented on every service', async () => {
    for (const key of SERVICE_KEYS) {
      await call(key, 'GET', { template: '/healthz' }, 200);
      await call(key, 'GET', { template: '/readyz' }, 200);
      await call(key, 'GET', { template: '/metrics' }, 200);
      await call(key, 'GET', { template: '/docs' }, 200);
    }
  });

  describe('a whole saga, every answer checked against the served documents', () => {
    const tag = `${run}${Date.now().toString(36)}`;
    let riderId = '';
    let rideId = '';
    let driverId = '';

    it('riders: 201, 200, and 400 / 404 problems', async () => {
      const rider = await call(
        'ride',
        'POST',
        { template: '/riders', body: { name: 'Ada Lovelace', email: `ada.${tag}@riders.example` } },
        201,
      );
      riderId = rider.id;
      await call('ride', 'POST', { template: '/riders', body: { name: '', email: 'not an email' } }, 400);
      await call('ride', 'GET', { template: '/riders/{id}', path: `/riders/${riderId}` }, 200);
      await call('ride', 'GET', { template: '/riders/{id}', path: `/riders/no-such-rider-${tag}` }, 404);
    });

    it('drivers: 201, list, read, move, and 400 / 404 problems', async () => {
      for (const name of ['Margaret Hamilton', 'Grace Hopper']) {
        const driver = await call(
          'driver',
          'POST',
          { template: '/drivers', body: { name, email: `${name.split(' ')[0]?.toLowerCase()}.${tag}@drivers.example`, location: PICKUP } },
          201,
        );
        driverId ||= driver.id;
      }
      await call(
        'driver',
        'POST',
        { template: '/drivers', body: { name: 'x', email: 'x@drivers.example', location: { lat: 91, lng: 0 } } },
        400,
      );
      const list = await call('driver', 'GET', { template: '/drivers', path: '/drivers?limit=5' }, 200);
      expect(list).to.be.an('array').that.is.not.empty;
      await call('driver', 'GET', { template: '/drivers', path: '/drivers?status=NOPE' }, 400);
      await call('driver', 'GET', { template: '/drivers/{id}', path: `/drivers/${driverId}` }, 200);
      await call('driver', 'GET', { template: '/drivers/{id}', path: `/drivers/no-such-driver-${tag}` }, 404);
      await call('driver', 'PUT', { template: '/drivers/{id}/location', path: `/drivers/${driverId}/location`, body: PICKUP }, 200);
      await call(
        'driver',
        'PUT',
        { template: '/drivers/{id}/location', path: `/drivers/${driverId}/location`, body: { lat: 'north' } },
        400,
      );
    });

    it('POST /rides: 202 (and its idempotent replay), and 400 / 403 / 404 / 409 / 413 / 415 problems', async () => {
      const key = `key-${tag}`;
      const request = { riderId, pickup: PICKUP, dropoff: DROPOFF };
      const accepted = await call('ride', 'POST', { template: '/rides', body: request, headers: { 'Idempotency-Key': key } }, 202);
      rideId = accepted.rideId;
      const replay = await call('ride', 'POST', { template: '/rides', body: request, headers: { 'Idempotency-Key': key } }, 202);
      expect(replay.rideId).to.equal(rideId);
      await call('ride', 'POST', { template: '/rides', body: { ...request, dropoff: PICKUP }, headers: { 'Idempotency-Key': key } }, 409);
      await call('ride', 'POST', { template: '/rides', body: { ...request, riderId: `no-such-rider-${tag}` } }, 404);
      const inactive = await call(
        'ride',
        'POST',
        { template: '/riders', body: { name: 'Idle', email: `idle.${tag}@riders.example`, status: 'INACTIVE' } },
        201,
      );
      const refused = await call('ride', 'POST', { template: '/rides', body: { ...request, riderId: inactive.id } }, 403);
      expect(refused.type).to.match(/rider-inactive$/);
      const invalid = await call('ride', 'POST', { template: '/rides', body: { riderId, pickup: { lat: 200, lng: 0 } } }, 400);
      expect(invalid.errors).to.be.an('array').that.is.not.empty;
      await call('ride', 'POST', { template: '/rides', raw: '{"riderId": ' }, 400);
      await call('ride', 'POST', { template: '/rides', raw: 'riderId=1', contentType: 'text/plain' }, 415);
      await call('ride', 'POST', { template: '/rides', body: { ...request, padding: 'x'.repeat(32 * 1024) } }, 413);
      await call('ride', 'POST', { template: '/rides', body: request, headers: { 'Idempotency-Key': 'has spaces' } }, 400);
    });

    it('GET /rides/:id follows the saga to CONFIRMED (every answer a valid Ride); lists and 400 / 404 problems', async () => {
      const confirmed = await waitFor(
        async () => {
          const ride = await call('ride', 'GET', { template: '/rides/{id}', path: `/rides/${rideId}` }, 200);
          return ride.status === 'CONFIRMED' ? ride : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, description: `ride ${rideId} CONFIRMED` },
      );
      expect(confirmed.driver).to.have.property('id');
      driverId = confirmed.driver.id;
      const rides = await call('ride', 'GET', { template: '/rides', path: `/rides?riderId=${riderId}` }, 200);
      expect(rides.map((r: { id: string }) => r.id)).to.include(rideId);
      expect(await call('ride', 'GET', { template: '/rides', path: `/rides?riderId=nobody-${tag}` }, 200)).to.deep.equal([]);
      await call('ride', 'GET', { template: '/rides', path: '/rides?limit=0' }, 400);
      await call('ride', 'GET', { template: '/rides/{id}', path: `/rides/no-such-ride-${tag}` }, 404);
      await call('ride', 'GET', { template: '/rides/{id}', path: '/rides/%E0%A4%A' }, 400);
    });

    it('cancel and complete: 202, then 409 problems; rating 201, then 409', async () => {
      const second = await call('ride', 'POST', { template: '/rides', body: { riderId, pickup: PICKUP, dropoff: DROPOFF } }, 202);
      await call('ride', 'POST', { template: '/rides/{id}/cancel', path: `/rides/${second.rideId}/cancel` }, 202);
      await call('ride', 'POST', { template: '/rides/{id}/cancel', path: `/rides/${second.rideId}/cancel` }, 409);
      await call('ride', 'POST', { template: '/rides/{id}/complete', path: `/rides/${second.rideId}/complete` }, 409);
      await call('ride', 'POST', { template: '/rides/{id}/cancel', path: `/rides/no-such-ride-${tag}/cancel` }, 404);
      await call('ride', 'POST', { template: '/rides/{id}/complete', path: `/rides/${rideId}/complete` }, 202);
      await call('ride', 'POST', { template: '/rides/{id}/complete', path: `/rides/${rideId}/complete` }, 409);
      const rating = { stars: 5, comment: 'smooth' };
      await call('ride', 'POST', { template: '/rides/{id}/rating', path: `/rides/${rideId}/rating`, body: rating }, 201);
      await call('ride', 'POST', { template: '/rides/{id}/rating', path: `/rides/${rideId}/rating`, body: rating }, 409);
      await call('ride', 'POST', { template: '/rides/{id}/rating', path: `/rides/${rideId}/rating`, body: { stars: 6 } }, 400);
    });

    it('payments: the captured authorization, by ride and by id; 400 / 404 problems', async () => {
      const [payment] = await waitFor(
        async () => {
          const list = await call('payment', 'GET', { template: '/payments', path: `/payments?rideId=${rideId}` }, 200);
          return list.length > 0 && list[0].status === 'CAPTURED' ? list : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, description: `the payment of ${rideId} CAPTURED` },
      );
      await call('payment', 'GET', { template: '/payments/{id}', path: `/payments/${payment.id}` }, 200);
      await call('payment', 'GET', { template: '/payments/{id}', path: `/payments/no-such-payment-${tag}` }, 404);
      await call('payment', 'GET', { template: '/payments', path: '/payments?limit=many' }, 400);
    });

    it('notifications: by ride and by id; 400 / 404 problems', async () => {
      const list = await waitFor(
        async () => {
          const found = await call('notification', 'GET', { template: '/notifications', path: `/notifications?rideId=${rideId}` }, 200);
          return found.some((n: { template: string; status: string }) => n.template === 'receipt' && n.status === 'SENT')
            ? found
            : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, description: `the receipt of ${rideId} SENT` },
      );
      await call('notification', 'GET', { template: '/notifications/{id}', path: `/notifications/${list[0].id}` }, 200);
      await call('notification', 'GET', { template: '/notifications/{id}', path: `/notifications/no-such-notification-${tag}` }, 404);
      await call('notification', 'GET', { template: '/notifications', path: '/notifications?limit=0' }, 400);
    });

    it('trip histories of the rider and the driver; 400 / 404 problems', async () => {
      const riderTrips = await waitFor(
        async () => {
          const page = await call('ride', 'GET', { template: '/riders/{id}/trips', path: `/riders/${riderId}/trips?limit=1` }, 200);
          return page.summary.completed === 1 ? page : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, description: `rider ${riderId}'s summary` },
      );
      expect(riderTrips.next, 'two trips, pages of one').to.be.a('string');
      await call('ride', 'GET', { template: '/riders/{id}/trips', path: `/riders/${riderId}/trips?before=${riderTrips.next}` }, 200);
      await call('ride', 'GET', { template: '/riders/{id}/trips', path: `/riders/${riderId}/trips?before=garbage` }, 400);
      await call('ride', 'GET', { template: '/riders/{id}/trips', path: `/riders/no-such-rider-${tag}/trips` }, 404);
      await waitFor(
        async () => {
          const page = await call('driver', 'GET', { template: '/drivers/{id}/trips', path: `/drivers/${driverId}/trips` }, 200);
          return page.summary.completed === 1;
        },
        { timeoutMs: 20_000, intervalMs: 100, description: `driver ${driverId}'s summary` },
      );
      await call('driver', 'GET', { template: '/drivers/{id}/trips', path: `/drivers/${driverId}/trips?limit=1000` }, 400);
      await call('driver', 'GET', { template: '/drivers/{id}/trips', path: `/drivers/no-such-driver-${tag}/trips` }, 404);
    });

    it('answered every documented operation of every service with a success at least once', () => {
      for (const key of SERVICE_KEYS) {
        const missing = documentedRoutes(docs[key]).filter((route) => ![...answered].some((a) => a.startsWith(`${key} ${route} 2`)));
        expect(missing, `${key}: operations never answered with a 2xx`).to.deep.equal([]);
      }
    });
  });

  describe('GET /docs in headless Chromium', () => {
    before(function () {
      if (!existsSync(CHROMIUM)) {
        announceLane('e2e/docs', 'did not run', `no chromium at ${CHROMIUM}`);
        this.skip();
      }
    });

    it('shows the ride routes, with every request served by the service itself', async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      try {
        const base = stack!.urls.ride;
        announceLane('e2e/docs', 'ran', `${CHROMIUM} (${browser.version()}) on ${base}/docs`);
        const page = await browser.newPage();
        const requested: string[] = [];
        page.on('request', (r) => requested.push(r.url()));
        await page.goto(`${base}/docs`);
        await page.waitForSelector('.opblock-summary-path[data-path="/rides/{id}"]', { timeout: 30_000 });
        const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
        for (const path of ['/rides', '/rides/{id}', '/rides/{id}/cancel', '/rides/{id}/complete', '/riders', '/healthz'])
          expect(paths, 'paths shown').to.include(path);
        expect(await page.title()).to.contain('ride-service');
        expect(
          requested.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:')),
          'requests elsewhere (a CDN?)',
        ).to.deep.equal([]);
        expect(requested).to.include(`${base}/openapi.json`);
      } finally {
        await browser.close();
      }
    });
  });
});
