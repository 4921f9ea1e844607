import { expect } from 'chai';
import type { AnyEnvelope } from '@ridehail/shared';
import { republished } from '@ridehail/shared/testing';
import type { Driver } from '../../../src/domain/driver';
import { summaryView, totalsOf } from '../../../src/domain/summary';
import { rebuildDriverTripHistory } from '../../../src/tripHistory/rebuild';
import { driverTripSummaries } from '../../../src/store/collections';
import {
  DriverHarness,
  paymentCaptured,
  paymentDeclined,
  permutations,
  ref,
  rideCompleted,
  rideConfirmed,
  rideRated,
  rideRequested,
} from '../../factories';

const COMPLETED_AT = new Date('2030-03-01T10:30:00.000Z');
const CAPTURED_AT = new Date('2030-03-01T10:30:02.000Z');
const RATED_AT = new Date('2030-03-01T11:00:00.000Z');

async function requestedAndConfirmed(h: DriverHarness, driver: Driver): Promise<string> {
  const ride = rideRequested();
  await h.deliver(ride);
  await h.deliver(rideConfirmed(ride.payload.rideId, ref(driver)));
  return ride.payload.rideId;
}

describe('driver-service trip history', () => {
  describe('every order of ride.completed, payment.captured and ride.rated', () => {
    for (const order of permutations(['ride.completed', 'payment.captured', 'ride.rated'] as const)) {
      it(`${order.join(' → ')}, each also republished, gives the same totals`, async () => {
        const h = await DriverHarness.create();
        const driver = await h.seedDriver();
        const rideId = await requestedAndConfirmed(h, driver);
        const facts: Record<(typeof order)[number], AnyEnvelope> = {
          'ride.completed': rideCompleted(rideId, ref(driver), COMPLETED_AT),
          'payment.captured': paymentCaptured(rideId, driver.id, 1840, CAPTURED_AT),
          'ride.rated': rideRated(rideId, driver.id, 4, RATED_AT),
        };
        for (const type of order) await h.deliver(facts[type]);
        for (const type of order) {
          expect(await h.deliver(facts[type])).to.equal('duplicate');
          await h.deliver(republished(facts[type]));
        }
        const summary = await h.summary(driver.id);
        expect(summary && summaryView(summary)).to.deep.equal({
          completed: 1,
          earnings: { amount: 1840, currency: 'EUR' },
          rating: { average: 4, count: 1 },
          lastTripAt: RATED_AT.toISOString(),
        });
        expect(await h.trip(rideId)).to.deep.include({ status: 'COMPLETED', earned: { amount: 1840, currency: 'EUR' }, rating: 4 });
        expect(await rebuildDriverTripHistory(h.store, h.logger, { repair: false })).to.deep.equal([]);
      });
    }
  });

  it('keeps a rating and a capture that arrive before the ride is requested here, and counts them when it is reserved', async () => {
    const h = await DriverHarness.create();
    const driver = await h.seedDriver();
    const ride = rideRequested();
    const rideId = ride.payload.rideId;
    await h.deliver(rideRated(rideId, driver.id, 5, RATED_AT));
    await h.deliver(paymentCaptured(rideId, driver.id, 900, CAPTURED_AT));
    expect(totalsOf((await h.summary(driver.id))!)).to.include({ ratingCount: 0, earnings: 0 });

    await h.deliver(ride);
    await h.deliver(rideCompleted(rideId, ref(driver), COMPLETED_AT));
    expect(totalsOf((await h.summary(driver.id))!)).to.include({ completed: 1, earnings: 900, ratingSum: 5, ratingCount: 1 });
    expect(await rebuildDriverTripHistory(h.store, h.logger, { repair: false })).to.deep.equal([]);
  });

  it('lists a declined reservation as a CANCELLED trip that adds nothing but its date', async () => {
    const h = await DriverHarness.create();
    const driver = await h.seedDriver();
    const ride = rideRequested();
    await h.deliver(ride);
    await h.deliver(paymentDeclined(ride.payload.rideId, driver.id));
    const trip = await h.trip(ride.payload.rideId);
    expect(trip).to.include({ status: 'CANCELLED', driverId: driver.id });
    const summary = await h.summary(driver.id);
    expect(summary).to.include({ completed: 0, ratingCount: 0, lastTripAt: trip?.lastChangedAt });
  });

  describe('rebuild', () => {
    it('reports each drifted field, repairs it when asked, and then finds none', async () => {
      const h = await DriverHarness.create();
      const driver = await h.seedDriver();
      const rideId = await requestedAndConfirmed(h, driver);
      await h.deliver(rideCompleted(rideId, ref(driver), COMPLETED_AT));
      await h.deliver(paymentCaptured(rideId, driver.id, 700, CAPTURED_AT));
      await h.fold();
      await h.store.run(async (tx) => {
        const s = await tx.repo(driverTripSummaries).get(driver.id);
        await tx.repo(driverTripSummaries).update({ ...s!, completed: 3, earnings: { amount: 1, currency: 'EUR' } });
      });

      const found = await rebuildDriverTripHistory(h.store, h.logger, { repair: false });
      expect(found).to.deep.equal([
        { person: driver.id, field: 'completed', stored: 3, recomputed: 1 },
        { person: driver.id, field: 'earnings.amount', stored: 1, recomputed: 700 },
      ]);
      expect((await h.summary(driver.id))?.completed).to.equal(3, 'a report-only run changes nothing');

      expect(await rebuildDriverTripHistory(h.store, h.logger, { repair: true })).to.have.length(2);
      expect(await h.summary(driver.id)).to.include({ completed: 1 });
      expect(await rebuildDriverTripHistory(h.store, h.logger, { repair: true })).to.deep.equal([]);
    });

    it('recreates a missing summary of a driver with trips', async () => {
      const h = await DriverHarness.create();
      const driver = await h.seedDriver();
      const idle = await h.seedDriver({ location: { lat: 0, lng: 0 } });
      await requestedAndConfirmed(h, driver);
      await h.fold();
      await h.store.run(async (tx) => {
        await tx.repo(driverTripSummaries).deleteMany({ id: { $in: [driver.id, idle.id] } });
      });
      const found = await rebuildDriverTripHistory(h.store, h.logger, { repair: true });
      expect(found.map((d) => `${d.person}:${d.field}`)).to.deep.equal([`${driver.id}:lastTripAt`]);
      expect(await h.summary(driver.id)).to.include({
        completed: 0,
        lastTripAt: (await h.trip((await h.driver(driver.id)).currentRideId!))?.lastChangedAt,
      });
      expect(await rebuildDriverTripHistory(h.store, h.logger, { repair: false })).to.deep.equal([]);
    });
  });
});
