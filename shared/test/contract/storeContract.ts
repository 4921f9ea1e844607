// The store contract (DESIGN §5-§6): one suite that every store adapter must pass, in-memory and MongoDB alike.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
// Imports name the modules directly so this suite depends only on the store's own code.
import { createEnvelope, type Envelope } from '../../src/envelope';
import { ConcurrencyError, DuplicateKeyError, DuplicateMessageError } from '../../src/errors';
import { defineCollection, readerOf, type Store, type Transaction } from '../../src/store/port';
import { defineSummaryLedger, foldLedger, readSummary, recordTripChange } from '../../src/store/summaryLedger';
import { waitFor } from '../../src/waitFor';

export interface StoreHarness {
  /** A fresh, initialised store with the contract's collections, empty. */
  open(): Promise<Store>;
  /** Closes the store and removes whatever it stored. */
  dispose(store: Store): Promise<void>;
}

interface Counter {
  id: string;
  version: number;
  n: number;
}

interface Widget {
  id: string;
  version: number;
  sku: string;
  kind: string;
  rank: number;
  createdAt: string;
  color?: string | null;
  tags?: string[];
  dims?: { w: number; h: number };
}

interface Cab {
  id: string;
  version: number;
  status: 'AVAILABLE' | 'RESERVED';
  location: { type: 'Point'; coordinates: [number, number] };
  holder?: string;
}

interface Tally {
  id: string;
  version: number;
  total: number;
  last: string | null;
}

export const counters = defineCollection<Counter>('counters');
export const widgets = defineCollection<Widget>('widgets', [{ fields: { sku: 1 }, unique: true }, { fields: { createdAt: -1 } }]);
export const cabs = defineCollection<Cab>('cabs', [{ fields: { location: '2dsphere' } }]);
export const contractCollections = [counters, widgets, cabs];

function aWidget(overrides: Partial<Widget> = {}): Widget {
  const id = overrides.id ?? randomUUID();
  return { id, version: 1, sku: `sku-${id}`, kind: 'plain', rank: 1, createdAt: new Date().toISOString(), ...overrides };
}

function anEvent(rideId = randomUUID()): Envelope {
  return createEnvelope({
    type: 'ride.rated',
    source: 'ride-service',
    correlationId: rideId,
    causationId: randomUUID(),
    payload: { rideId, riderId: 'rider-1', driverId: 'driver-1', stars: 5 },
  });
}

/** A point `meters` north of (lng, lat). */
function northOf(lng: number, lat: number, meters: number): [number, number] {
  return [lng, lat + (meters / 6_378_100) * (180 / Math.PI)];
}

/** Resolves once `parties` callers have arrived: lets racing units of work read before any of them writes. */
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

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

class Boom extends Error {}

export function storeContract(harness: () => StoreHarness): void {
  let store: Store;

  beforeEach(async function () {
    store = await harness().open();
  });

  afterEach(async function () {
    if (store) await harness().dispose(store);
  });

  describe('unit of work', () => {
    it('makes a committed insert visible to later reads, with the outbox row it added', async () => {
      const w = aWidget();
      const env = anEvent();
      await store.run(async (tx) => {
        await tx.repo(widgets).insert(w);
        await tx.outbox.add(env);
      });
      expect(await store.read(widgets).get(w.id)).to.deep.equal(w);
      const stats = await store.outbox.stats();
      expect(stats.pending).to.equal(1);
    });

    it('leaves nothing behind when the work throws, outbox rows included', async () => {
      const w = aWidget();
      const err = await rejection(
        store.run(async (tx) => {
          await tx.repo(widgets).insert(w);
          await tx.outbox.add(anEvent());
          throw new Boom('work failed');
        }),
      );
      expect(err).to.be.instanceOf(Boom);
      expect(await store.read(widgets).get(w.id)).to.equal(null);
      expect((await store.outbox.stats()).pending).to.equal(0);
      expect(await store.outbox.claim('relay-a', 10, 10_000)).to.deep.equal([]);
    });

    it('hides uncommitted writes from other readers and shows them to the unit of work itself', async () => {
      const w = aWidget();
      await store.run(async (tx) => {
        await tx.repo(widgets).insert(w);
        expect(await tx.repo(widgets).get(w.id)).to.deep.equal(w);
        expect(await tx.repo(widgets).count({ kind: 'plain' })).to.equal(1);
        expect(await store.read(widgets).get(w.id)).to.equal(null);
      });
      expect(await store.read(widgets).get(w.id)).to.deep.equal(w);
    });

    it("reads through readerOf as its source sees it: a unit of work's own writes inside it, the committed state outside", async () => {
      const w = aWidget();
      await store.run(async (tx) => {
        await tx.repo(widgets).insert(w);
        expect(await readerOf(tx, widgets).get(w.id)).to.deep.equal(w);
        expect(await readerOf(store, widgets).get(w.id)).to.equal(null);
      });
      expect(await readerOf(store, widgets).get(w.id)).to.deep.equal(w);
    });

    it('returns the result of the work', async () => {
      const result = await store.run(async () => 42);
      expect(result).to.equal(42);
    });

    it('hands out copies: mutating a returned document does not change the stored one', async () => {
      const w = aWidget({ tags: ['a'] });
      await store.run((tx) => tx.repo(widgets).insert(w));
      const read = await store.read(widgets).get(w.id);
      read!.tags!.push('mutated');
      read!.kind = 'mutated';
      expect(await store.read(widgets).get(w.id)).to.deep.equal(w);
    });

    it('never shows the storage key `_id` on documents', async () => {
      const w = aWidget();
      await store.run((tx) => tx.repo(widgets).insert(w));
      const read = (await store.read(widgets).get(w.id)) as unknown as Record<string, unknown>;
      expect(read).to.not.have.property('_id');
      const found = (await store.read(widgets).find({ id: w.id })) as unknown as Record<string, unknown>[];
      expect(found).to.have.length(1);
      expect(found[0]).to.not.have.property('_id');
    });

    it('deletes the matching documents and reports how many', async () => {
      await store.run(async (tx) => {
        for (const kind of ['a', 'a', 'b']) await tx.repo(widgets).insert(aWidget({ kind }));
      });
      const deleted = await store.run((tx) => tx.repo(widgets).deleteMany({ kind: 'a' }));
      expect(deleted).to.equal(2);
      expect(await store.read(widgets).count({})).to.equal(1);
    });
  });

  describe('optimistic concurrency', () => {
    it('update writes version + 1 and returns the stored document', async () => {
      const c: Counter = { id: randomUUID(), version: 1, n: 0 };
      await store.run((tx) => tx.repo(counters).insert(c));
      const stored = await store.run((tx) => tx.repo(counters).update({ ...c, n: 5 }));
      expect(stored).to.deep.equal({ id: c.id, version: 2, n: 5 });
      expect(await store.read(counters).get(c.id)).to.deep.equal({ id: c.id, version: 2, n: 5 });
    });

    it('retries a lost race so that two concurrent increments both land', async () => {
      const id = randomUUID();
      await store.run((tx) => tx.repo(counters).insert({ id, version: 1, n: 0 }));
      const bothRead = barrier(2);
      let invocations = 0;
      const increment = async (): Promise<void> => {
        let waited = false;
        await store.run(async (tx: Transaction) => {
          invocations += 1;
          const c = await tx.repo(counters).get(id);
          if (!waited) {
            waited = true;
            await bothRead();
          }
          await tx.repo(counters).update({ ...c!, n: c!.n + 1 });
        });
      };
      await Promise.all([increment(), increment()]);
      const final = await store.read(counters).get(id);
      expect(final!.n).to.equal(2);
      expect(final!.version).to.equal(3);
      expect(invocations, 'the loser ran its work again').to.be.greaterThan(2);
    });

    it('throws ConcurrencyError for a stale update once attempts are exhausted, leaving the newer state', async () => {
      const id = randomUUID();
      await store.run((tx) => tx.repo(counters).insert({ id, version: 1, n: 0 }));
      await store.run((tx) => tx.repo(counters).update({ id, version: 1, n: 10 }));
      const err = await rejection(store.run((tx) => tx.repo(counters).update({ id, version: 1, n: 99 }), { maxAttempts: 1 }));
      expect(err).to.be.instanceOf(ConcurrencyError);
      expect(await store.read(counters).get(id)).to.deep.equal({ id, version: 2, n: 10 });
    });

    it('with one attempt allowed, a lost race either fails with ConcurrencyError or re-reads, but never loses an update', async () => {
      const id = randomUUID();
      await store.run((tx) => tx.repo(counters).insert({ id, version: 1, n: 0 }));
      const bothRead = barrier(2);
      const increment = () =>
        store.run(
          async (tx) => {
            const c = await tx.repo(counters).get(id);
            await bothRead();
            await tx.repo(counters).update({ ...c!, n: c!.n + 1 });
          },
          { maxAttempts: 1 },
        );
      const results = await Promise.allSettled([increment(), increment()]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const final = await store.read(counters).get(id);
      // In-memory: the loser fails at commit. MongoDB: a write conflict is transient, so withTransaction re-runs the
      // work on fresh data. Either way every increment that reported success is in the final count.
      for (const r of rejected) expect(r.reason).to.be.instanceOf(ConcurrencyError);
      expect(rejected.length).to.be.lessThan(2);
      expect(final).to.deep.equal({ id, version: 1 + (2 - rejected.length), n: 2 - rejected.length });
    });

    it('gives a findOneAndUpdate claim of one AVAILABLE document to exactly one of ten concurrent units of work', async () => {
      const cab: Cab = { id: randomUUID(), version: 1, status: 'AVAILABLE', location: { type: 'Point', coordinates: [13.4, 52.5] } };
      await store.run((tx) => tx.repo(cabs).insert(cab));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.run((tx) => tx.repo(cabs).findOneAndUpdate({ status: 'AVAILABLE' }, { status: 'RESERVED', holder: `h${i}` }), {
            maxAttempts: 20,
          }),
        ),
      );
      const winners = claims.filter((c) => c !== null);
      expect(winners).to.have.length(1);
      const stored = await store.read(cabs).get(cab.id);
      expect(stored!.status).to.equal('RESERVED');
      expect(stored!.holder).to.equal(winners[0]!.holder);
      expect(stored!.version).to.equal(2);
    });

    it('findOneAndUpdate takes the first match by sort, bumps the version, and returns null when nothing matches', async () => {
      await store.run(async (tx) => {
        await tx.repo(widgets).insert(aWidget({ id: 'w1', rank: 2, kind: 'k' }));
        await tx.repo(widgets).insert(aWidget({ id: 'w2', rank: 1, kind: 'k' }));
      });
      const got = await store.run((tx) =>
        tx.repo(widgets).findOneAndUpdate({ kind: 'k' }, { color: 'red' }, { sort: [{ field: 'rank', direction: 1 }] }),
      );
      expect(got).to.include({ id: 'w2', color: 'red', version: 2 });
      const none = await store.run((tx) => tx.repo(widgets).findOneAndUpdate({ kind: 'nope' }, { color: 'red' }));
      expect(none).to.equal(null);
    });
  });

  describe('unique keys', () => {
    it('rejects a second document with a taken unique key with DuplicateKeyError and keeps the first', async () => {
      await store.run((tx) => tx.repo(widgets).insert(aWidget({ id: 'first', sku: 'SKU-1' })));
      const err = await rejection(store.run((tx) => tx.repo(widgets).insert(aWidget({ id: 'second', sku: 'SKU-1' }))));
      expect(err).to.be.instanceOf(DuplicateKeyError);
      expect(await store.read(widgets).get('second')).to.equal(null);
      expect((await store.read(widgets).get('first'))!.sku).to.equal('SKU-1');
    });

    it('rejects a taken id with DuplicateKeyError and commits none of that unit of work', async () => {
      await store.run((tx) => tx.repo(widgets).insert(aWidget({ id: 'same' })));
      const other = aWidget();
      const err = await rejection(
        store.run(async (tx) => {
          await tx.repo(widgets).insert(other);
          await tx.repo(widgets).insert(aWidget({ id: 'same' }));
        }),
      );
      expect(err).to.be.instanceOf(DuplicateKeyError);
      expect(await store.read(widgets).get(other.id)).to.equal(null);
    });

    it('lets two concurrent first inserts of one unique key make exactly one document', async () => {
      const bothReady = barrier(2);
      const attempt = (id: string) => {
        let waited = false;
        return store.run(async (tx) => {
          if (!waited) {
            waited = true;
            await bothReady();
          }
          await tx.repo(widgets).insert(aWidget({ id, sku: 'RACE' }));
        });
      };
      const results = await Promise.allSettled([attempt('r1'), attempt('r2')]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0]!.reason).to.be.instanceOf(DuplicateKeyError);
      expect(await store.read(widgets).count({ sku: 'RACE' })).to.equal(1);
    });
  });

  describe('inbox', () => {
    it('reports a duplicate (consumer, message) with DuplicateMessageError and commits none of its work', async () => {
      const messageId = randomUUID();
      const first = aWidget();
      const second = aWidget();
      await store.run(async (tx) => {
        await tx.inbox.record('svc', messageId, 'ride.rated');
        await tx.repo(widgets).insert(first);
        await tx.outbox.add(anEvent());
      });
      const err = await rejection(
        store.run(async (tx) => {
          await tx.repo(widgets).insert(second);
          await tx.outbox.add(anEvent());
          await tx.inbox.record('svc', messageId, 'ride.rated');
        }),
      );
      expect(err).to.be.instanceOf(DuplicateMessageError);
      expect(await store.read(widgets).get(first.id)).to.not.equal(null);
      expect(await store.read(widgets).get(second.id)).to.equal(null);
      expect((await store.outbox.stats()).pending).to.equal(1);
    });

    it('aborts the unit of work even when the work swallows the duplicate error', async () => {
      const messageId = randomUUID();
      await store.run((tx) => tx.inbox.record('svc', messageId, 'ride.rated'));
      const w = aWidget();
      const err = await rejection(
        store.run(async (tx) => {
          try {
            await tx.inbox.record('svc', messageId, 'ride.rated');
          } catch {
            // deliberately ignored: the store must still refuse to commit this unit of work
          }
          await tx.repo(widgets).insert(w);
        }),
      );
      expect(err).to.be.instanceOf(DuplicateMessageError);
      expect(await store.read(widgets).get(w.id)).to.equal(null);
    });

    it('keeps consumers apart: another consumer may process the same message', async () => {
      const messageId = randomUUID();
      await store.run((tx) => tx.inbox.record('svc-a', messageId, 'ride.rated'));
      await store.run((tx) => tx.inbox.record('svc-b', messageId, 'ride.rated'));
    });

    it('lets only one of two concurrent deliveries of one message commit', async () => {
      const messageId = randomUUID();
      const bothReady = barrier(2);
      const deliver = () => {
        let waited = false;
        return store.run(async (tx) => {
          if (!waited) {
            waited = true;
            await bothReady();
          }
          await tx.inbox.record('svc', messageId, 'ride.rated');
          await tx.repo(widgets).insert(aWidget({ kind: 'delivered' }));
        });
      };
      const results = await Promise.allSettled([deliver(), deliver()]);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).to.have.length(1);
      expect(rejected[0]!.reason).to.be.instanceOf(DuplicateMessageError);
      expect(await store.read(widgets).count({ kind: 'delivered' })).to.equal(1);
    });
  });

  describe('queries', () => {
    const t0 = Date.parse('2024-01-01T00:00:00.000Z');
    const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();

    beforeEach(async () => {
      await store.run(async (tx) => {
        const r = tx.repo(widgets);
        await r.insert(aWidget({ id: 'a', kind: 'x', rank: 1, createdAt: at(1), color: 'red', tags: ['t1', 't2'], dims: { w: 1, h: 2 } }));
        await r.insert(aWidget({ id: 'b', kind: 'x', rank: 2, createdAt: at(2), color: null, tags: ['t2'] }));
        await r.insert(aWidget({ id: 'c', kind: 'y', rank: 3, createdAt: at(3), dims: { w: 5, h: 2 } }));
        await r.insert(aWidget({ id: 'd', kind: 'y', rank: 3, createdAt: at(4), color: 'blue' }));
        await r.insert(aWidget({ id: 'e', kind: 'z', rank: 5, createdAt: at(5) }));
      });
    });

    const ids = async (filter: Record<string, unknown>) => {
      const docs = await store.read(widgets).find(filter, { sort: [{ field: 'id', direction: 1 }] });
      return docs.map((d) => d.id);
    };

    it('matches plain equality, $eq, $ne and $in', async () => {
      expect(await ids({ kind: 'x' })).to.deep.equal(['a', 'b']);
      expect(await ids({ kind: { $eq: 'y' } })).to.deep.equal(['c', 'd']);
      expect(await ids({ kind: { $ne: 'x' } })).to.deep.equal(['c', 'd', 'e']);
      expect(await ids({ kind: { $in: ['x', 'z'] } })).to.deep.equal(['a', 'b', 'e']);
      expect(await ids({ id: 'c' })).to.deep.equal(['c']);
      expect(await ids({ id: { $in: ['a', 'e', 'nope'] } })).to.deep.equal(['a', 'e']);
    });

    it('matches ranges with $lt, $lte, $gt and $gte, combined on one field', async () => {
      expect(await ids({ rank: { $lt: 3 } })).to.deep.equal(['a', 'b']);
      expect(await ids({ rank: { $lte: 3 } })).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(await ids({ rank: { $gt: 3 } })).to.deep.equal(['e']);
      expect(await ids({ rank: { $gte: 2, $lt: 5 } })).to.deep.equal(['b', 'c', 'd']);
      expect(await ids({ createdAt: { $gt: at(3) } })).to.deep.equal(['d', 'e']);
    });

    it('treats null as "null or missing" and $exists as presence', async () => {
      expect(await ids({ color: null })).to.deep.equal(['b', 'c', 'e']);
      expect(await ids({ color: { $ne: null } })).to.deep.equal(['a', 'd']);
      expect(await ids({ color: { $exists: true } })).to.deep.equal(['a', 'b', 'd']);
      expect(await ids({ color: { $exists: false } })).to.deep.equal(['c', 'e']);
    });

    it('follows dotted paths and matches array members', async () => {
      expect(await ids({ 'dims.w': 5 })).to.deep.equal(['c']);
      expect(await ids({ 'dims.h': { $gte: 2 } })).to.deep.equal(['a', 'c']);
      expect(await ids({ tags: 't2' })).to.deep.equal(['a', 'b']);
      expect(await ids({ kind: 'x', tags: 't1' })).to.deep.equal(['a']);
    });

    it('sorts by several fields and limits', async () => {
      const docs = await store.read(widgets).find(
        {},
        {
          sort: [
            { field: 'rank', direction: -1 },
            { field: 'createdAt', direction: 1 },
          ],
          limit: 4,
        },
      );
      expect(docs.map((d) => d.id)).to.deep.equal(['e', 'c', 'd', 'b']);
      const first = await store.read(widgets).findOne({ kind: 'y' }, { sort: [{ field: 'createdAt', direction: -1 }] });
      expect(first!.id).to.equal('d');
      expect(await store.read(widgets).count({ kind: { $in: ['x', 'y'] } })).to.equal(4);
    });

    it('pages newest first with $lt on the sort key', async () => {
      const newestFirst = [{ field: 'createdAt', direction: -1 as const }];
      const page1 = await store.read(widgets).find({}, { sort: newestFirst, limit: 2 });
      const page2 = await store.read(widgets).find({ createdAt: { $lt: page1[1]!.createdAt } }, { sort: newestFirst, limit: 2 });
      const page3 = await store.read(widgets).find({ createdAt: { $lt: page2[1]!.createdAt } }, { sort: newestFirst, limit: 2 });
      expect([page1, page2, page3].map((p) => p.map((d) => d.id))).to.deep.equal([['e', 'd'], ['c', 'b'], ['a']]);
    });

    it('queries inside a unit of work see its own writes', async () => {
      const found = await store.run(async (tx) => {
        await tx.repo(widgets).insert(aWidget({ id: 'f', kind: 'x', rank: 0, createdAt: at(6) }));
        await tx.repo(widgets).deleteMany({ id: 'a' });
        return tx.repo(widgets).find({ kind: 'x' }, { sort: [{ field: 'rank', direction: 1 }] });
      });
      expect(found.map((d) => d.id)).to.deep.equal(['f', 'b']);
    });
  });

  describe('findNearestAndUpdate', () => {
    const origin: [number, number] = [13.4, 52.5];
    const near = { field: 'location', from: { lng: origin[0], lat: origin[1] }, maxDistanceMeters: 5_000 };
    const cabAt = (id: string, meters: number, status: Cab['status'] = 'AVAILABLE'): Cab => ({
      id,
      version: 1,
      status,
      location: { type: 'Point', coordinates: northOf(origin[0], origin[1], meters) },
    });

    beforeEach(async () => {
      await store.run(async (tx) => {
        await tx.repo(cabs).insert(cabAt('far', 10_000));
        await tx.repo(cabs).insert(cabAt('two-km', 2_000));
        await tx.repo(cabs).insert(cabAt('busy-near', 100, 'RESERVED'));
        await tx.repo(cabs).insert(cabAt('one-km', 1_000));
      });
    });

    const reserve = (holder: string) =>
      store.run((tx) => tx.repo(cabs).findNearestAndUpdate({ status: 'AVAILABLE' }, near, { status: 'RESERVED', holder }));

    it('reserves the nearest matching document within range, then the next nearest, and none outside', async () => {
      const first = await reserve('r1');
      expect(first).to.include({ id: 'one-km', status: 'RESERVED', holder: 'r1', version: 2 });
      const second = await reserve('r2');
      expect(second!.id).to.equal('two-km');
      expect(await reserve('r3')).to.equal(null);
      expect((await store.read(cabs).get('far'))!.status).to.equal('AVAILABLE');
    });

    it('gives concurrent reservations distinct documents', async () => {
      const got = await Promise.all(
        ['r1', 'r2', 'r3'].map((h) =>
          store.run((tx) => tx.repo(cabs).findNearestAndUpdate({ status: 'AVAILABLE' }, near, { status: 'RESERVED', holder: h }), {
            maxAttempts: 20,
          }),
        ),
      );
      const reserved = got.filter((c) => c !== null).map((c) => c!.id);
      expect(reserved.sort()).to.deep.equal(['one-km', 'two-km']);
    });
  });

  describe('outbox', () => {
    const addEvents = async (n: number): Promise<Envelope[]> => {
      const base = Date.now() - 60_000;
      const envs = Array.from({ length: n }, (_, i) => {
        const e = anEvent();
        // Distinct, increasing times so "oldest first" is observable.
        e.occurredAt = new Date(base + i * 10).toISOString();
        return e;
      });
      await store.run(async (tx) => {
        for (const e of [...envs].reverse()) await tx.outbox.add(e);
      });
      return envs;
    };

    it('stores the row of DESIGN §5: unprefixed exchange, routing key = type, envelope headers, PENDING', async () => {
      const [env] = await addEvents(1);
      const [row] = await store.outbox.claim('relay-a', 10, 10_000);
      expect(row).to.not.equal(undefined);
      expect(row!.id).to.equal(env!.id);
      expect(row!.type).to.equal('ride.rated');
      expect(row!.exchange).to.equal('ride.events');
      expect(row!.routingKey).to.equal('ride.rated');
      expect(row!.headers).to.deep.equal({
        version: env!.version,
        source: 'ride-service',
        correlationId: env!.correlationId,
        causationId: env!.causationId,
      });
      expect(row!.payload).to.deep.equal(env!.payload);
      expect(row!.occurredAt).to.be.instanceOf(Date);
      expect(row!.occurredAt.toISOString()).to.equal(env!.occurredAt);
      expect(row!.status).to.equal('PENDING');
      expect(row!.attempts).to.equal(0);
      expect(row!.lockedBy).to.equal('relay-a');
      expect(row!.lockedUntil).to.be.instanceOf(Date);
      expect(row!.dispatchedAt).to.equal(null);
      expect(row).to.not.have.property('_id');
    });

    it('claims oldest first, at most the batch size', async () => {
      const envs = await addEvents(5);
      const batch = await store.outbox.claim('relay-a', 3, 10_000);
      expect(batch.map((r) => r.id)).to.deep.equal(envs.slice(0, 3).map((e) => e.id));
    });

    it('never gives two concurrently claiming relays the same row', async () => {
      const envs = await addEvents(30);
      const seen: Record<string, string[]> = { a: [], b: [] };
      for (let round = 0; round < 10; round++) {
        const [a, b] = await Promise.all([store.outbox.claim('relay-a', 4, 60_000), store.outbox.claim('relay-b', 4, 60_000)]);
        seen.a!.push(...a.map((r) => r.id));
        seen.b!.push(...b.map((r) => r.id));
      }
      const overlap = seen.a!.filter((id) => seen.b!.includes(id));
      expect(overlap).to.deep.equal([]);
      expect([...seen.a!, ...seen.b!].sort()).to.deep.equal(envs.map((e) => e.id).sort());
    });

    it('lets another relay take over a row whose lease expired, and ignores markDispatched from the relay that lost it', async () => {
      const [env] = await addEvents(1);
      expect(await store.outbox.claim('relay-a', 10, 150)).to.have.length(1);
      expect(await store.outbox.claim('relay-b', 10, 60_000), 'lease still held').to.deep.equal([]);
      const takenOver = await waitFor(
        async () => {
          const rows = await store.outbox.claim('relay-b', 10, 60_000);
          return rows.length > 0 ? rows : null;
        },
        { timeoutMs: 5_000, description: 'the lease of relay-a to expire' },
      );
      expect(takenOver.map((r) => r.id)).to.deep.equal([env!.id]);
      expect(takenOver[0]!.lockedBy).to.equal('relay-b');

      await store.outbox.markDispatched('relay-a', [env!.id]);
      expect((await store.outbox.stats()).pending, 'relay-a no longer holds the lease').to.equal(1);
      await store.outbox.markDispatched('relay-b', [env!.id]);
      expect((await store.outbox.stats()).pending).to.equal(0);
      expect(await store.outbox.claim('relay-c', 10, 60_000)).to.deep.equal([]);
    });

    it('release gives a row back after retryAfterMs with attempts + 1', async () => {
      const [env] = await addEvents(1);
      await store.outbox.claim('relay-a', 10, 60_000);
      await store.outbox.release('relay-a', [env!.id], 200);
      expect(await store.outbox.claim('relay-b', 10, 60_000), 'not before retryAfterMs').to.deep.equal([]);
      const rows = await waitFor(
        async () => {
          const r = await store.outbox.claim('relay-b', 10, 60_000);
          return r.length > 0 ? r : null;
        },
        { timeoutMs: 5_000, description: 'the released row to become claimable' },
      );
      expect(rows[0]!.id).to.equal(env!.id);
      expect(rows[0]!.attempts).to.equal(1);
      expect(rows[0]!.status).to.equal('PENDING');
    });

    it('reports the pending count and the oldest pending time', async () => {
      expect(await store.outbox.stats()).to.deep.equal({ pending: 0, oldestPendingAt: null });
      const envs = await addEvents(3);
      const stats = await store.outbox.stats();
      expect(stats.pending).to.equal(3);
      expect(stats.oldestPendingAt!.toISOString()).to.equal(envs[0]!.occurredAt);
      const [row] = await store.outbox.claim('relay-a', 1, 60_000);
      await store.outbox.markDispatched('relay-a', [row!.id]);
      const after = await store.outbox.stats();
      expect(after.pending).to.equal(2);
      expect(after.oldestPendingAt!.toISOString()).to.equal(envs[1]!.occurredAt);
    });

    it('wakes onNewMessages listeners after a commit that added rows, not after a rollback', async () => {
      let calls = 0;
      const unsubscribe = store.outbox.onNewMessages(() => {
        calls += 1;
      });
      await rejection(
        store.run(async (tx) => {
          await tx.outbox.add(anEvent());
          throw new Boom('rolled back');
        }),
      );
      await store.run(async (tx) => {
        await tx.repo(widgets).insert(aWidget());
      });
      // Listeners are called on a later turn of the event loop; give pending ones the chance to run.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls, 'no call for a rollback or a commit without outbox rows').to.equal(0);
      await addEvents(1);
      await waitFor(() => calls > 0, { timeoutMs: 2_000, description: 'the onNewMessages listener' });
      unsubscribe();
    });
  });

  describe('outbox fast path', () => {
    it('hands the rows of a commit to the attached relay, written leased to it, and not to a rollback', async () => {
      const handed: string[][] = [];
      const detach = store.outbox.attachFastPath({
        relayId: 'relay-fast',
        leaseMs: 60_000,
        committed: (rows) => handed.push(rows.map((r) => r.id)),
      });
      try {
        await rejection(
          store.run(async (tx) => {
            await tx.outbox.add(anEvent());
            throw new Boom('rolled back');
          }),
        );
        const [a, b] = [anEvent(), anEvent()];
        await store.run(async (tx) => {
          await tx.outbox.add(a);
          await tx.outbox.add(b);
        });
        expect(handed).to.deep.equal([[a.id, b.id]]);
        // Leased to the fast path: no other relay claims them while it publishes.
        expect(await store.outbox.claim('relay-other', 10, 60_000)).to.deep.equal([]);
        await store.outbox.markDispatched('relay-fast', [a.id, b.id]);
        expect((await store.outbox.stats()).pending).to.equal(0);
      } finally {
        detach();
      }
    });

    it('leaves the rows of a relay that died before publishing to the claim once their lease expired', async () => {
      const detach = store.outbox.attachFastPath({ relayId: 'relay-crashed', leaseMs: 150, committed: () => undefined });
      const env = anEvent();
      await store.run((tx) => tx.outbox.add(env));
      detach();
      expect(await store.outbox.claim('relay-b', 10, 60_000), 'still leased to the crashed relay').to.deep.equal([]);
      const rows = await waitFor(
        async () => {
          const r = await store.outbox.claim('relay-b', 10, 60_000);
          return r.length > 0 ? r : null;
        },
        { timeoutMs: 5_000, description: 'the fast-path lease to expire' },
      );
      expect(rows.map((r) => r.id)).to.deep.equal([env.id]);
      // The crashed relay's late mark changes nothing: only the holder of the lease marks.
      await store.outbox.markDispatched('relay-crashed', [env.id]);
      expect((await store.outbox.stats()).pending).to.equal(1);
    });

    it('writes rows unleased when no relay is attached, for whoever claims first', async () => {
      const env = anEvent();
      await store.run((tx) => tx.outbox.add(env));
      expect((await store.outbox.claim('relay-b', 10, 60_000)).map((r) => r.id)).to.deep.equal([env.id]);
    });
  });

  describe('summary ledger', () => {
    const tally = defineCollection<Tally>('tallies');
    const ledger = defineSummaryLedger<Tally, { n: number; at: string | null }>({
      summaries: tally,
      empty: (owner) => ({ id: owner, version: 1, total: 0, last: null }),
      apply: (s, sub, add) => ({
        ...s,
        total: s.total + add.n - sub.n,
        last: add.at !== null && (s.last === null || add.at > s.last) ? add.at : s.last,
      }),
    });
    const change = (owner: string, n: number, at: string) =>
      store.run((tx) => recordTripChange(tx, ledger, owner, { n: 0, at: null }, { n, at }));

    beforeEach(async () => {
      await store.init([tally, ledger.entries]);
    });

    it('shows the rows not folded yet on read, and the same totals after the fold', async () => {
      await change('p1', 2, '2026-01-01T00:00:01.000Z');
      await change('p1', 3, '2026-01-01T00:00:02.000Z');
      await change('p2', 5, '2026-01-01T00:00:03.000Z');
      expect(await readSummary(store, ledger, 'p1')).to.include({ total: 5, last: '2026-01-01T00:00:02.000Z' });
      expect(await store.read(tally).get('p1'), 'nothing folded yet').to.equal(null);
      expect(await foldLedger(store, ledger)).to.equal(3);
      expect(await store.read(tally).get('p1')).to.include({ total: 5, last: '2026-01-01T00:00:02.000Z' });
      expect(await readSummary(store, ledger, 'p2')).to.include({ total: 5 });
      expect(await foldLedger(store, ledger), 'nothing left').to.equal(0);
    });

    it('counts every row exactly once when two folders (replicas) race over the same rows', async () => {
      for (let i = 0; i < 20; i++) await change(`p${i % 3}`, 1, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString());
      const folded = await Promise.all([foldLedger(store, ledger), foldLedger(store, ledger), foldLedger(store, ledger)]);
      while ((await foldLedger(store, ledger)) > 0);
      expect(folded.reduce((a, b) => a + b, 0) <= 20).to.equal(true);
      const totals = await Promise.all(['p0', 'p1', 'p2'].map(async (p) => (await store.read(tally).get(p))?.total));
      expect(totals).to.deep.equal([7, 7, 6]);
    });

    it('never makes two changes of one person in flight conflict: both commit at once', async () => {
      const attempts = { n: 0 };
      await Promise.all(
        [1, 2, 3, 4].map((n) =>
          store.run(
            async (tx) => {
              attempts.n += 1;
              await recordTripChange(tx, ledger, 'busy', { n: 0, at: null }, { n, at: '2026-01-01T00:00:00.000Z' });
            },
            { maxAttempts: 1 },
          ),
        ),
      );
      expect(attempts.n, 'no unit of work ran twice').to.equal(4);
      expect(await readSummary(store, ledger, 'busy')).to.include({ total: 10 });
    });
  });

  describe('health', () => {
    it('is healthy while open', async () => {
      expect(await store.isHealthy()).to.equal(true);
      expect(store.description).to.be.a('string').and.not.equal('');
    });
  });
}
