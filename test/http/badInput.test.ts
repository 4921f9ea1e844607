// Generated bad requests against every documented route of the four services: never a 5xx, every 4xx problem+json (DESIGN §3).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fc from 'fast-check';
import { MemoryStore, type ServiceDefinition } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';
import { configSchema as driverConfig, definition as driverDefinition } from '../../driver-service/src/main';
import { configSchema as notificationConfig, definition as notificationDefinition } from '../../notification-service/src/main';
import { configSchema as paymentConfig, definition as paymentDefinition } from '../../payment-service/src/main';
import { configSchema as rideConfig, definition as rideDefinition } from '../../ride-service/src/main';

const env = { PORT: '0', LOG_LEVEL: 'error' };
const services: Array<() => ServiceDefinition> = [
  () => rideDefinition(rideConfig.parse(env)),
  () => driverDefinition(driverConfig.parse(env)),
  () => paymentDefinition(paymentConfig.parse(env)),
  () => notificationDefinition(notificationConfig.parse(env)),
];

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** A raw request (the path goes out exactly as generated: malformed percent-encoding included). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// ---- what a hostile or careless client sends ----------------------------------------------------------------------

const pathChars = fc.constantFrom(...'abcXYZ019-_.~%/:@!$&()*+,;=é'.split(''));
/** Path segments: ids, junk, broken and overlong percent-encodings, dots. */
const segment = fc.oneof(
  fc.uuid(),
  fc.string({ unit: pathChars, maxLength: 40 }).map((s) => s.replace(/[^\x21-\x7e]/g, encodeURIComponent)),
  fc.constantFrom('%', '%G1', '%E0%A4%A', '%ZZ', '%00', '..', '.', '%2e%2e', '%C0%AE', 'x'.repeat(2000), '%FF%FE'),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.integer().map(String),
  fc.constantFrom('', '%', '-1', '0', '1e9', 'NaN', 'null', '[]', 'true', '%E0%A4%A', 'a'.repeat(500)),
);
const queryKey = fc.oneof(
  fc.constantFrom('limit', 'before', 'riderId', 'status', 'rideId', 'driverId', 'limit[]', 'status[x]', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const query = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 6 })
  .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`));
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin-9000',
  '',
);
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc
    .constantFrom('{', '{"riderId":', '[1,2', 'nul', '{"__proto__":{"x":1}}', '{"pickup":{"lat":"north"}}', '\u0000')
    .map((s) => Buffer.from(s)),
  fc.constant(Buffer.alloc(40_000, 'a')),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);
const extraHeaders = fc.record(
  {
    'idempotency-key': fc.oneof(
      fc.string({ maxLength: 300 }).map((s) => s.replace(/[^\x20-\x7e]/g, '?')),
      fc.constant(''),
    ),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus'),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/problem+json'),
    traceparent: fc.constantFrom('00-zz-zz-zz', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01', 'garbage'),
  },
  { requiredKeys: [] },
);

function expectProblem(answer: Answer, what: string): void {
  expect(answer.status, `${what} → ${answer.status} ${answer.body.slice(0, 300)}`).to.be.below(500);
  if (answer.status < 400) return;
  expect(answer.contentType, `${what}: content type`).to.match(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  expect(problem, what).to.include.keys('type', 'title', 'status', 'detail');
  expect(problem.status, what).to.equal(answer.status);
  expect(answer.body, `${what}: no stack trace`).to.not.match(/\n\s+at \S+ \(|node_modules/);
}

describe('generated bad requests: 0 5xx, never a stack trace, every 4xx problem+json (DESIGN §3)', function () {
  this.timeout(120_000);

  for (const make of services) {
    const def = make();
    describe(def.name, () => {
      let server: http.Server;
      let port: number;
      before(async () => {
        const store = new MemoryStore({ name: def.name });
        await store.init(def.collections);
        server = routeApp(def, store).listen(0, '127.0.0.1');
        await new Promise<void>((resolve) => server.once('listening', () => resolve()));
        port = (server.address() as AddressInfo).port;
      });
      after(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });

      const routes = def.api?.routes ?? [];
      it(`documents routes to attack (${routes.length})`, () => {
        expect(routes.length).to.be.greaterThan(0);
      });

      for (const route of routes) {
        const method = route.method.toUpperCase();
        it(`${method} ${route.path}: malformed paths, queries, headers and bodies`, async () => {
          await fc.assert(
            fc.asyncProperty(
              fc.array(segment, { minLength: 3, maxLength: 3 }),
              query,
              contentType,
              extraHeaders,
              fc.option(body, { nil: undefined }),
              async (segments, q, type, headers, payload) => {
                let i = 0;
                const path = route.path.replace(/:[A-Za-z]+/g, () => segments[i++ % segments.length] as string) + q;
                const sent: Record<string, string> = { ...headers };
                if (type) sent['content-type'] = type;
                if (payload) sent['content-length'] = String(payload.length);
                const answer = await send(port, method, path, sent, payload);
                expectProblem(answer, `${method} ${path} (${type || 'no content type'}, ${payload?.length ?? 0} bytes)`);
              },
            ),
            { numRuns: 60 },
          );
        });
      }

      it('answers an unknown path, an unknown method and an absurd one with a problem, not a 5xx', async () => {
        for (const [method, path] of [
          ['GET', '/nope/%E0%A4%A'],
          ['DELETE', '/rides'],
          ['PATCH', '/%'],
          ['GET', '/' + 'a'.repeat(5000)],
        ] as const) {
          expectProblem(await send(port, method, path, {}), `${method} ${path.slice(0, 40)}`);
        }
      });
    });
  }
});
