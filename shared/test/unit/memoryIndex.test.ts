import { expect } from 'chai';
import { MemoryStore } from '../../src/store/memory';
import { defineCollection, type CollectionSpec, type Filter, type NearQuery, type Sort, type Transaction } from '../../src/store/port';

interface Spot {
  id: string;
  version: number;
  owner: string | number;
  tags?: string[];
  status: 'A' | 'B';
  at: number;
  location?: { type: 'Point'; coordinates: [number, number] };
}

// The same collection with and without declared indexes: the unindexed store answers every read by a full scan.
const indexed = defineCollection<Spot>('spots', [
  { fields: { owner: 1, at: -1 } },
  { fields: { tags: 1 } },
  { fields: { status: 1, at: -1 } },
  { fields: { location: '2dsphere' } },
]);
const scanned: CollectionSpec<Spot> = defineCollection<Spot>('spots');

/** A small seeded generator, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op =
  | { kind: 'insert'; doc: Spot }
  | { kind: 'update'; id: string; set: Partial<Spot> }
  | { kind: 'delete'; id: string }
  | { kind: 'find'; filter: Filter<Spot>; sort?: Sort[]; limit?: number }
  | { kind: 'nearest'; filter: Filter<Spot>; near: NearQuery };

/** Random spots around a centre: shared coordinates make distance ties, a few have no point or one outside lng ±180. */
function world(seed: number, centre: [number, number]) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const owners = ['o1', 'o2', 'o3', 7, 8] as const;
  const sharedPoints = Array.from({ length: 5 }, () => [centre[0] + (r() - 0.5) * 0.2, centre[1] + (r() - 0.5) * 0.2] as [number, number]);
  let next = 0;
  const spot = (): Spot => {
    const roll = r();
    const coordinates: [number, number] | undefined =
      roll < 0.05
        ? undefined
        : roll < 0.08
          ? [centre[0] + 360, centre[1]]
          : roll < 0.3
            ? pick(sharedPoints)
            : [centre[0] + (r() - 0.5) * 0.6, centre[1] + (r() - 0.5) * 0.6];
    const doc: Spot = { id: `s${next++}`, version: 1, owner: pick(owners), status: r() < 0.6 ? 'A' : 'B', at: Math.floor(r() * 20) };
    if (r() < 0.4) doc.tags = [pick(['x', 'y', 'z']), pick(['x', 'y', 'z'])];
    if (coordinates) doc.location = { type: 'Point', coordinates };
    return doc;
  };
  const randomSet = (): Partial<Spot> => {
    const roll = r();
    if (roll < 0.35) return { owner: pick(owners) };
    if (roll < 0.6) return { status: r() < 0.5 ? 'A' : 'B' };
    if (roll < 0.8) return { location: { type: 'Point', coordinates: [centre[0] + (r() - 0.5) * 0.6, centre[1] + (r() - 0.5) * 0.6] } };
    return { tags: [pick(['x', 'y', 'z'])], at: Math.floor(r() * 20) };
  };
  const live = new Set<string>();
  const dead: string[] = [];
  const write = (): Op => {
    const ids = [...live];
    const roll = r();
    if (ids.length === 0 || roll < 0.3) {
      const doc = spot();
      // Re-inserting a deleted id puts it last in natural order.
      if (dead.length > 0 && r() < 0.2) doc.id = dead.splice(Math.floor(r() * dead.length), 1)[0]!;
      live.add(doc.id);
      return { kind: 'insert', doc };
    }
    const id = pick(ids);
    if (roll < 0.8) return { kind: 'update', id, set: randomSet() };
    live.delete(id);
    dead.push(id);
    return { kind: 'delete', id };
  };
  const read = (): Op => {
    const roll = r();
    const sort: Sort[] = [{ field: pick(['at', 'status', 'owner']), direction: r() < 0.5 ? 1 : -1 }];
    if (roll < 0.25) return { kind: 'find', filter: { owner: pick(owners) }, sort, limit: 1 + Math.floor(r() * 8) };
    if (roll < 0.4) return { kind: 'find', filter: { owner: pick(owners), status: 'A' } };
    // A scalar matches an array element, which the port's Filter type does not spell out.
    if (roll < 0.5) return { kind: 'find', filter: { tags: pick(['x', 'y', 'z']) } as Filter<Spot>, sort, limit: 5 };
    if (roll < 0.6) return { kind: 'find', filter: { status: 'B', at: { $gte: 10 } }, limit: 3 };
    const maxDistanceMeters = pick([500, 5_000, 20_000, 200_000]);
    const near = { field: 'location', lng: centre[0] + (r() - 0.5) * 0.6, lat: centre[1] + (r() - 0.5) * 0.6, maxDistanceMeters };
    return { kind: 'nearest', filter: r() < 0.7 ? { status: 'A' } : { owner: pick(owners) }, near };
  };
  return { write, read, r };
}

async function apply(tx: Transaction, spec: CollectionSpec<Spot>, op: Op): Promise<unknown> {
  const repo = tx.repo(spec);
  switch (op.kind) {
    case 'insert':
      return repo.insert(op.doc);
    case 'update':
      return repo.findOneAndUpdate({ id: op.id }, op.set);
    case 'delete':
      return repo.deleteMany({ id: op.id });
    case 'find':
      return repo.find(op.filter, { sort: op.sort, limit: op.limit });
    case 'nearest':
      return (await repo.findNearestAndUpdate(op.filter, op.near, { status: 'B' }))?.id ?? null;
  }
}

/** Runs the same committed history, then the same transaction of staged writes mixed with reads, on both stores. */
async function compare(seed: number, centre: [number, number]): Promise<number> {
  const w = world(seed, centre);
  const history: Op[][] = Array.from({ length: 12 }, () => Array.from({ length: 40 }, () => w.write()));
  const unit: Op[] = Array.from({ length: 60 }, () => (w.r() < 0.5 ? w.write() : w.read()));
  const outcomes: unknown[][] = [];
  for (const spec of [indexed, scanned]) {
    const store = new MemoryStore();
    await store.init([spec]);
    for (const batch of history) await store.run(async (tx) => Promise.all(batch.map((op) => apply(tx, spec, op))));
    const seen = await store.run(async (tx) => {
      const out: unknown[] = [];
      for (const op of unit) out.push(await apply(tx, spec, op));
      return out;
    });
    // Committed reads: pages in the order of a compound index's second field, ties in natural order.
    const reader = store.read(spec);
    for (const owner of ['o1', 'o2', 7]) {
      for (const direction of [1, -1] as const) {
        for (const limit of [1, 4, 1000]) seen.push(await reader.find({ owner }, { sort: [{ field: 'at', direction }], limit }));
        seen.push(await reader.find({ owner, at: { $lt: 10 } }, { sort: [{ field: 'at', direction }], limit: 3 }));
        seen.push(await reader.findOne({ owner }, { sort: [{ field: 'at', direction }] }));
      }
      seen.push(await reader.find({ owner, status: 'A' }));
    }
    seen.push(await reader.find({ status: 'B' }, { sort: [{ field: 'at', direction: -1 }], limit: 7 }));
    seen.push(
      await store.run(async (tx) => [
        await tx.repo(spec).find({ status: 'A' }, { sort: [{ field: 'at', direction: -1 }], limit: 5 }),
        await tx.repo(spec).findOneAndUpdate({ owner: 'o2' }, { at: 0 }, { sort: [{ field: 'at', direction: 1 }] }),
        await tx.repo(spec).find({ owner: 'o2' }, { sort: [{ field: 'at', direction: 1 }], limit: 5 }),
      ]),
    );
    seen.push(await reader.find({ owner: 'o2' }, { sort: [{ field: 'at', direction: 1 }], limit: 5 }));
    outcomes.push(seen);
    await store.close();
  }
  expect(outcomes[0]).to.deep.equal(outcomes[1], `seed ${seed}`);
  return unit.filter((op) => op.kind === 'nearest').length;
}

describe('in-memory store indexes', () => {
  it('answer equality finds (sort, limit) exactly as a full scan, with staged writes in the transaction', async () => {
    for (let seed = 1; seed <= 40; seed++) await compare(seed, [13.4, 52.5]);
  });

  it('reserve the same nearest document as a full scan, ties going to natural order', async () => {
    let nearestReads = 0;
    for (let seed = 100; seed < 140; seed++) nearestReads += await compare(seed, [-74, 40.7]);
    expect(nearestReads).to.be.greaterThan(100);
  });

  it('fall back to the scan near the antimeridian and the poles with the same answers', async () => {
    for (let seed = 200; seed < 215; seed++) await compare(seed, [179.9, 10]);
    for (let seed = 300; seed < 315; seed++) await compare(seed, [20, 84.9]);
  });

  it('keep natural order after a row changes its indexed value and back', async () => {
    const store = new MemoryStore();
    await store.init([indexed]);
    await store.run(async (tx) => {
      for (const id of ['a', 'b', 'c']) await tx.repo(indexed).insert({ id, version: 1, owner: 'o1', status: 'A', at: 1 });
    });
    await store.run((tx) => tx.repo(indexed).findOneAndUpdate({ id: 'a' }, { owner: 'o2' }));
    await store.run((tx) => tx.repo(indexed).findOneAndUpdate({ id: 'a' }, { owner: 'o1' }));
    expect((await store.read(indexed).find({ owner: 'o1' })).map((d) => d.id)).to.deep.equal(['a', 'b', 'c']);
    const inTx = await store.run(async (tx) => {
      await tx.repo(indexed).findOneAndUpdate({ id: 'b' }, { owner: 'o2' });
      await tx.repo(indexed).insert({ id: 'd', version: 1, owner: 'o1', status: 'A', at: 1 });
      return (await tx.repo(indexed).find({ owner: 'o1' })).map((d) => d.id);
    });
    expect(inTx).to.deep.equal(['a', 'c', 'd']);
  });
});
