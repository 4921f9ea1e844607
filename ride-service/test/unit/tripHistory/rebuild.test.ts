// The trip-history rebuild: recomputes every rider summary from the rides, reports each drift, repairs it, and then finds none.
import { expect } from 'chai';
import { rebuildRiderTripHistory } from '../../../src/tripHistory/rebuild';
import { riderSummaries } from '../../../src/store/collections';
import { silentLogger } from '@ridehail/shared/testing';
import { aRider, driverUnavailable, Harness, paymentAuthorized, paymentCaptured } from '../../factories';

describe('rebuildRiderTripHistory', () => {
  let h: Harness;
  const logger = silentLogger();

  beforeEach(async () => {
    h = await new Harness().init();
  });

  it('finds no drift in summaries kept by the handlers', async () => {
    const rider = await h.seedRider();
    const a = await h.seedRide(rider);
    const b = await h.seedRide(rider);
    await h.deliver(paymentAuthorized(a));
    await h.deliver(paymentCaptured(a, 900));
    await h.deliver(driverUnavailable(b));
    expect(await rebuildRiderTripHistory(h.store, logger, { repair: true })).to.deep.equal([]);
  });

  it('reports each drifted field with both values, repairs it, and a second run finds none', async () => {
    const rider = await h.seedRider();
    const ride = await h.seedRide(rider);
    await h.deliver(paymentAuthorized(ride));
    await h.deliver(paymentCaptured(ride, 900));
    const good = await h.summary(rider.id);
    await h.fold();
    await h.store.run(async (tx) => {
      const s = await tx.repo(riderSummaries).get(rider.id);
      await tx.repo(riderSummaries).update({ ...s!, requested: 5, spent: { amount: 1, currency: 'EUR' } });
    });

    const drifts = await rebuildRiderTripHistory(h.store, logger, { repair: true });
    expect(drifts).to.deep.equal([
      { person: rider.id, field: 'requested', stored: 5, recomputed: 1 },
      { person: rider.id, field: 'spent.amount', stored: 1, recomputed: 900 },
    ]);
    expect(await h.summary(rider.id)).to.deep.include({ requested: good!.requested, spent: good!.spent, lastTripAt: good!.lastTripAt });
    expect(await rebuildRiderTripHistory(h.store, logger, { repair: true })).to.deep.equal([]);
  });

  it('only reports without repair', async () => {
    const rider = await h.seedRider();
    const ride = await h.seedRide(rider);
    await h.fold();
    await h.store.run(async (tx) => {
      await tx.repo(riderSummaries).deleteMany({ id: rider.id });
    });
    const first = await rebuildRiderTripHistory(h.store, logger, { repair: false });
    expect(first.map((d) => [d.field, d.stored, d.recomputed])).to.deep.equal([
      ['requested', 0, 1],
      ['lastTripAt', null, ride.updatedAt],
    ]);
    expect(await h.summary(rider.id)).to.equal(null);
    expect(await rebuildRiderTripHistory(h.store, logger, { repair: false })).to.deep.equal(first);
  });

  it('creates the missing summary of a rider with trips', async () => {
    const rider = aRider();
    await h.seedRider(rider);
    await h.seedRide(rider);
    await h.fold();
    await h.store.run((tx) => tx.repo(riderSummaries).deleteMany({ id: rider.id }));
    await rebuildRiderTripHistory(h.store, logger, { repair: true });
    expect(await h.summary(rider.id)).to.include({ requested: 1 });
    expect(await rebuildRiderTripHistory(h.store, logger, { repair: true })).to.deep.equal([]);
  });
});
