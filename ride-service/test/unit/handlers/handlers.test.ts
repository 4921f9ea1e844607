// ride-service's handlers through the inbox over the in-memory store: each event, duplicates, reorderings and terminal rides.
import { expect } from 'chai';
import { aDriver, republished } from '@ridehail/shared/testing';
import type { Ride } from '../../../src/domain/ride';
import {
  driverAssigned,
  driverUnavailable,
  fareCalculated,
  Harness,
  paymentAuthorized,
  paymentCaptured,
  paymentDeclined,
} from '../../factories';

describe('ride-service handlers', () => {
  let h: Harness;
  let ride: Ride;

  beforeEach(async () => {
    h = await new Harness().init();
    ride = await h.seedRide();
  });

  describe('on driver.assigned', () => {
    it('records the driver and moves the ride to DRIVER_ASSIGNED, with the message id as cause', async () => {
      const driver = aDriver();
      const msg = driverAssigned(ride, driver);
      expect(await h.deliver(msg)).to.equal('processed');
      const stored = await h.ride(ride.id);
      expect(stored).to.include({ status: 'DRIVER_ASSIGNED', version: 2 });
      expect(stored.driver).to.deep.equal(driver);
      expect(stored.history.at(-1)).to.include({ status: 'DRIVER_ASSIGNED', cause: msg.id });
      expect(await h.emittedTypes()).to.deep.equal([]);
    });

    it('acknowledges the same message id again without effect', async () => {
      const msg = driverAssigned(ride);
      await h.deliver(msg);
      const once = await h.ride(ride.id);
      expect(await h.deliver(msg)).to.equal('duplicate');
      expect(await h.ride(ride.id)).to.deep.equal(once);
    });

    it('changes nothing for the same fact under a new message id', async () => {
      const msg = driverAssigned(ride);
      await h.deliver(msg);
      const once = await h.ride(ride.id);
      expect(await h.deliver(republished(msg))).to.equal('processed');
      expect(await h.ride(ride.id)).to.deep.equal(once);
    });

    it('throws (retry me) for a ride it does not know', async () => {
      const unknown = { ...ride, id: 'ride-unknown' };
      let error: unknown;
      await h.deliver(driverAssigned(unknown)).catch((err: unknown) => (error = err));
      expect(error)
        .to.be.instanceOf(Error)
        .with.property('message')
        .that.matches(/ride-unknown/);
    });
  });

  describe('on fare.calculated', () => {
    it('records the quote as the ride fare, once', async () => {
      await h.deliver(fareCalculated(ride, 1500));
      await h.deliver(fareCalculated(ride, 9999));
      expect((await h.ride(ride.id)).fare).to.deep.equal({ amount: 1500, currency: 'EUR' });
    });

    it('records it on a ride that was cancelled meanwhile', async () => {
      await h.deliver(paymentDeclined(ride));
      await h.deliver(fareCalculated(ride, 1500));
      const stored = await h.ride(ride.id);
      expect(stored.status).to.equal('CANCELLED');
      expect(stored.fare).to.deep.equal({ amount: 1500, currency: 'EUR' });
    });
  });

  describe('on payment.authorized', () => {
    it('confirms the ride and emits ride.confirmed caused by the authorization', async () => {
      const driver = aDriver();
      await h.deliver(driverAssigned(ride, driver));
      await h.deliver(fareCalculated(ride, 1500));
      const msg = paymentAuthorized(ride, driver, 1500);
      await h.deliver(msg);
      expect((await h.ride(ride.id)).status).to.equal('CONFIRMED');
      const [confirmed, ...rest] = await h.emitted();
      expect(rest).to.deep.equal([]);
      expect(confirmed).to.deep.include({ type: 'ride.confirmed', routingKey: 'ride.confirmed', exchange: 'ride.events' });
      expect(confirmed?.headers).to.include({ correlationId: ride.id, causationId: msg.id, source: 'ride-service' });
      expect(confirmed?.payload).to.deep.include({ rideId: ride.id, driver, fare: { amount: 1500, currency: 'EUR' } });
    });

    it('confirms a ride whose driver.assigned has not arrived yet, with the payload driver, and a late driver.assigned changes nothing', async () => {
      const driver = aDriver();
      await h.deliver(paymentAuthorized(ride, driver));
      const confirmed = await h.ride(ride.id);
      expect(confirmed.status).to.equal('CONFIRMED');
      expect(confirmed.driver).to.deep.equal(driver);
      await h.deliver(driverAssigned(ride, driver));
      expect(await h.ride(ride.id)).to.deep.equal(confirmed);
      expect(await h.emittedTypes()).to.deep.equal(['ride.confirmed']);
    });

    it('emits ride.confirmed once for a duplicate and for the same fact under a new message id', async () => {
      const msg = paymentAuthorized(ride);
      await h.deliver(msg);
      expect(await h.deliver(msg)).to.equal('duplicate');
      await h.deliver(republished(msg));
      expect(await h.emittedTypes()).to.deep.equal(['ride.confirmed']);
    });
  });

  describe('on payment.declined', () => {
    it('cancels the ride (payment_declined) and emits ride.cancelled', async () => {
      const driver = aDriver();
      await h.deliver(driverAssigned(ride, driver));
      await h.deliver(paymentDeclined(ride, driver.id));
      const stored = await h.ride(ride.id);
      expect(stored).to.include({ status: 'CANCELLED', reason: 'payment_declined' });
      const events = await h.emitted();
      expect(events.map((e) => e.type)).to.deep.equal(['ride.cancelled']);
      expect(events[0]?.payload).to.deep.include({ reason: 'payment_declined', driver });
    });

    it('names the driver in ride.cancelled even when the decline overtakes driver.assigned', async () => {
      const driver = aDriver();
      await h.deliver(paymentDeclined(ride, driver.id, driver));
      const events = await h.emitted();
      expect(events.map((e) => e.type)).to.deep.equal(['ride.cancelled']);
      expect(events[0]?.payload).to.deep.include({ reason: 'payment_declined', driver });
    });

    it('cancels once, and a driver.assigned arriving after it changes nothing', async () => {
      const msg = paymentDeclined(ride);
      await h.deliver(msg);
      await h.deliver(republished(msg));
      const cancelled = await h.ride(ride.id);
      await h.deliver(driverAssigned(ride));
      expect(await h.ride(ride.id)).to.deep.equal(cancelled);
      expect(await h.emittedTypes()).to.deep.equal(['ride.cancelled']);
    });
  });

  describe('on driver.unavailable', () => {
    it('rejects the ride and emits ride.rejected, once', async () => {
      const msg = driverUnavailable(ride);
      await h.deliver(msg);
      await h.deliver(msg);
      await h.deliver(republished(msg));
      expect(await h.ride(ride.id)).to.include({ status: 'REJECTED', reason: 'no_driver_available' });
      expect(await h.emittedTypes()).to.deep.equal(['ride.rejected']);
    });
  });

  describe('on payment.captured', () => {
    it("records the trip's paid amount and adds it to the rider's spent, once per payment", async () => {
      await h.deliver(paymentAuthorized(ride));
      const msg = paymentCaptured(ride, 1800);
      await h.deliver(msg);
      expect(await h.deliver(msg)).to.equal('duplicate');
      await h.deliver(republished(msg));
      expect((await h.ride(ride.id)).paid).to.include({ amount: 1800, currency: 'EUR' });
      expect((await h.summary(ride.riderId))?.spent).to.deep.equal({ amount: 1800, currency: 'EUR' });
    });
  });

  describe('events for terminal rides', () => {
    const endings: Array<[string, (h: Harness, ride: Ride) => Promise<unknown>]> = [
      ['REJECTED', (h, ride) => h.deliver(driverUnavailable(ride))],
      ['CANCELLED', (h, ride) => h.deliver(paymentDeclined(ride))],
    ];
    for (const [status, end] of endings) {
      it(`change nothing on a ${status} ride: driver.assigned, payment.authorized, payment.declined, driver.unavailable`, async () => {
        await end(h, ride);
        await h.emitted();
        const ended = await h.ride(ride.id);
        const summary = await h.summary(ride.riderId);
        for (const msg of [driverAssigned(ride), paymentAuthorized(ride), paymentDeclined(ride), driverUnavailable(ride)]) {
          expect(await h.deliver(msg)).to.equal('processed');
        }
        expect(await h.ride(ride.id)).to.deep.equal(ended);
        expect(await h.summary(ride.riderId)).to.deep.equal(summary);
        expect(await h.emittedTypes()).to.deep.equal([]);
      });
    }
  });

  describe("the rider's summary", () => {
    it('counts every one of many rides of one rider ending at once (concurrent handlers retry their lost races)', async () => {
      const rider = await h.seedRider();
      const many = await Promise.all(Array.from({ length: 30 }, () => h.seedRide(rider)));
      await Promise.all(many.map((r, i) => h.deliver(i % 2 === 0 ? driverUnavailable(r) : paymentDeclined(r))));
      expect(await h.summary(rider.id)).to.include({ requested: 30, rejected: 15, cancelled: 15 });
    });

    it('moves in the same unit of work as the ride: requested, then rejected', async () => {
      expect(await h.summary(ride.riderId)).to.include({ requested: 1, rejected: 0, lastTripAt: ride.updatedAt });
      await h.deliver(driverUnavailable(ride));
      const rejected = await h.ride(ride.id);
      expect(await h.summary(ride.riderId)).to.include({ requested: 1, rejected: 1, lastTripAt: rejected.updatedAt });
    });
  });
});
