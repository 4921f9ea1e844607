// The ride-service HTTP app over an in-memory store (plus the handler harness to move rides along), for supertest.
import type { Store, Transaction } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';
import type { Express } from 'express';
import request from 'supertest';
import { rideApi } from '../../src/http/openapi';
import { mountRoutes } from '../../src/http/routes';
import { idempotencyKeys } from '../../src/store/collections';
import { CURRENCY, DROPOFF, Harness, PICKUP } from '../factories';

/** Strictly increasing times near the real clock, so rides made in one millisecond still list in the order they were made. */
export function tickingClock(): () => Date {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last);
  };
}

/** The routes as main.ts mounts them, but on a clock the test holds. */
export function rideApp(store: Store, now: () => Date = tickingClock()): Express {
  return routeApp(
    { name: 'ride-service', routes: (router, deps) => mountRoutes(router, { ...deps, currency: CURRENCY, now }), api: rideApi },
    store,
  );
}

export interface HttpHarness {
  h: Harness;
  app: Express;
  /** POST /riders; returns the rider's id. */
  rider(status?: 'ACTIVE' | 'INACTIVE'): Promise<string>;
  /** POST /rides for the rider; returns the ride's id. */
  ride(riderId: string): Promise<string>;
}

export async function httpHarness(store?: Store): Promise<HttpHarness> {
  const h = await new Harness().init();
  const app = rideApp(store ?? h.store);
  return {
    h,
    app,
    async rider(status = 'ACTIVE') {
      const res = await request(app).post('/riders').send({ name: 'Rita', email: 'rita@example.com', status }).expect(201);
      return (res.body as { id: string }).id;
    },
    async ride(riderId) {
      const res = await request(app).post('/rides').send({ riderId, pickup: PICKUP, dropoff: DROPOFF }).expect(202);
      return (res.body as { rideId: string }).rideId;
    },
  };
}

/** Resolves once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived += 1;
    if (arrived >= parties) release();
    await all;
  };
}

/**
 * A store whose first `racers` units of work all read the idempotency key before any of them writes it: the race of
 * concurrent first requests with one key, made certain instead of likely.
 */
export function racingStore(inner: Store, racers: number): Store {
  const arrive = barrier(racers);
  let waiting = racers;
  const wrap = (tx: Transaction): Transaction => ({
    outbox: tx.outbox,
    inbox: tx.inbox,
    repo(spec) {
      const repo = tx.repo(spec);
      if (spec.name !== idempotencyKeys.name) return repo;
      return {
        ...repo,
        get: async (id: string) => {
          const found = await repo.get(id);
          if (waiting > 0) {
            waiting -= 1;
            await arrive();
          }
          return found;
        },
      };
    },
  });
  return {
    kind: inner.kind,
    description: inner.description,
    outbox: inner.outbox,
    init: (c) => inner.init(c),
    run: (work, options) => inner.run((tx) => work(wrap(tx)), options),
    read: (spec) => inner.read(spec),
    isHealthy: () => inner.isHealthy(),
    close: () => inner.close(),
  };
}
