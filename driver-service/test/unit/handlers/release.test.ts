import { expect } from 'chai';
import { republished } from '@ridehail/shared/testing';
import type { Driver } from '../../../src/domain/driver';
import { DriverHarness, paymentDeclined, ref, rideCancelled, rideCompleted, rideConfirmed, rideRequested } from '../../factories';

describe('driver-service releasing drivers', () => {
  let h: DriverHarness;
  let driver: Driver;
  let rideId: string;

  beforeEach(async () => {
    h = await DriverHarness.create();
    driver = await h.seedDriver();
    const ride = rideRequested();
    rideId = ride.payload.rideId;
    await h.deliver(ride);
    expect((await h.driver(driver.id)).status).to.equal('RESERVED');
  });

  const releases = async () => (await h.eventsOf('driver.released')).map((e) => e.payload);

  describe('on payment.declined', () => {
    it('releases the reserved driver and emits driver.released (payment_declined)', async () => {
      await h.deliver(paymentDeclined(rideId, driver.id));
      const d = await h.driver(driver.id);
      expect(d.status).to.equal('AVAILABLE');
      expect(d).not.to.have.property('currentRideId');
      expect(await releases()).to.deep.equal([{ rideId, driverId: driver.id, reason: 'payment_declined' }]);
      expect(await h.trip(rideId)).to.include({ status: 'CANCELLED', cancelReason: 'payment_declined' });
    });

    it('releases once for a duplicate and for the same decline under a new id', async () => {
      const declined = paymentDeclined(rideId, driver.id);
      await h.deliver(declined);
      expect(await h.deliver(declined)).to.equal('duplicate');
      await h.deliver(republished(declined));
      expect(await releases()).to.have.length(1);
    });
  });

  describe('on ride.cancelled', () => {
    it('releases the driver it reserved for that ride (reason cancelled)', async () => {
      await h.deliver(rideCancelled(rideId, 'rider_cancelled'));
      expect((await h.driver(driver.id)).status).to.equal('AVAILABLE');
      expect(await releases()).to.deep.equal([{ rideId, driverId: driver.id, reason: 'cancelled' }]);
    });

    it('releases a driver already ON_TRIP', async () => {
      await h.deliver(rideConfirmed(rideId, ref(driver)));
      await h.deliver(rideCancelled(rideId, 'rider_cancelled'));
      expect((await h.driver(driver.id)).status).to.equal('AVAILABLE');
      expect(await releases()).to.have.length(1);
    });

    it('names the release payment_declined when the cancellation was a decline', async () => {
      await h.deliver(rideCancelled(rideId, 'payment_declined'));
      expect(await releases()).to.deep.equal([{ rideId, driverId: driver.id, reason: 'payment_declined' }]);
    });

    it('releases nothing for a ride that found no driver', async () => {
      const lonely = rideRequested();
      await h.deliver(lonely); // the only driver is taken
      await h.deliver(rideCancelled(lonely.payload.rideId));
      expect(await releases()).to.have.length(0);
      expect((await h.driver(driver.id)).currentRideId).to.equal(rideId);
    });
  });

  for (const order of [
    ['payment.declined', 'ride.cancelled'],
    ['ride.cancelled', 'payment.declined'],
  ] as const) {
    it(`releases once when both ${order.join(' and then ')} arrive`, async () => {
      for (const type of order) {
        await h.deliver(type === 'payment.declined' ? paymentDeclined(rideId, driver.id) : rideCancelled(rideId, 'payment_declined'));
      }
      expect(await releases()).to.deep.equal([{ rideId, driverId: driver.id, reason: 'payment_declined' }]);
      expect((await h.driver(driver.id)).status).to.equal('AVAILABLE');
    });
  }

  it('never touches a driver that has since taken another ride', async () => {
    await h.deliver(paymentDeclined(rideId, driver.id));
    const next = rideRequested();
    await h.deliver(next);
    expect((await h.driver(driver.id)).currentRideId).to.equal(next.payload.rideId);

    await h.deliver(rideCancelled(rideId, 'payment_declined'));
    await h.deliver(rideCompleted(rideId, ref(driver)));
    await h.deliver(rideConfirmed(rideId, ref(driver)));
    expect(await h.driver(driver.id)).to.include({ status: 'RESERVED', currentRideId: next.payload.rideId });
    expect(await releases()).to.have.length(1);
  });

  describe('on ride.confirmed', () => {
    it('puts the reserved driver ON_TRIP', async () => {
      await h.deliver(rideConfirmed(rideId, ref(driver)));
      expect(await h.driver(driver.id)).to.include({ status: 'ON_TRIP', currentRideId: rideId });
      expect(await h.trip(rideId)).to.include({ status: 'CONFIRMED' });
      expect(await h.events()).to.have.length(1, 'only the driver.assigned of the setup');
    });

    it('is no change when it arrives after the completion', async () => {
      await h.deliver(rideCompleted(rideId, ref(driver)));
      await h.deliver(rideConfirmed(rideId, ref(driver)));
      expect(await h.driver(driver.id)).to.include({ status: 'AVAILABLE' });
      expect(await h.trip(rideId)).to.include({ status: 'COMPLETED' });
    });
  });

  describe('on ride.completed', () => {
    it('frees the driver and emits driver.released (completed), once', async () => {
      await h.deliver(rideConfirmed(rideId, ref(driver)));
      const done = rideCompleted(rideId, ref(driver));
      await h.deliver(done);
      await h.deliver(done);
      await h.deliver(republished(done));
      const d = await h.driver(driver.id);
      expect(d.status).to.equal('AVAILABLE');
      expect(d).not.to.have.property('currentRideId');
      expect(await releases()).to.deep.equal([{ rideId, driverId: driver.id, reason: 'completed' }]);
      expect(await h.trip(rideId)).to.include({ status: 'COMPLETED', endedAt: done.payload.completedAt });
    });

    it('cannot be undone by a late cancellation', async () => {
      await h.deliver(rideCompleted(rideId, ref(driver)));
      await h.deliver(rideCancelled(rideId));
      expect(await h.trip(rideId)).to.include({ status: 'COMPLETED' });
      expect((await releases()).map((r) => r.reason)).to.deep.equal(['completed']);
    });
  });
});
