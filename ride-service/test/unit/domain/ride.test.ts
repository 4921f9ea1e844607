// The ride state machine: each transition, and each late or repeated fact refused without change.
import { expect } from 'chai';
import {
  assignDriver,
  cancelByRider,
  completeRide,
  confirmRide,
  declinePayment,
  isTerminal,
  rateRide,
  recordCapture,
  recordFare,
  rejectRide,
  requestRide,
  type Decision,
  type Ride,
} from '../../../src/domain/ride';
import { aDriver } from '@ridehail/shared/testing';
import { aRequestedRide, aRider, change, changedRide, DROPOFF, PICKUP } from '../../factories';

function refusalOf(decision: Decision): string {
  if (decision.changed) throw new Error(`expected a refusal, got a change to ${decision.ride.status}`);
  return decision.refusal;
}

const driver = aDriver();
const auth = { driver, fare: { amount: 1500, currency: 'EUR' } };

function assigned(): Ride {
  return changedRide(assignDriver(aRequestedRide(), driver, change()));
}
function confirmed(): Ride {
  return changedRide(confirmRide(assigned(), auth, change()));
}
function completed(): Ride {
  return changedRide(completeRide(confirmed(), change()));
}
function cancelled(): Ride {
  return changedRide(cancelByRider(aRequestedRide(), change()));
}
function rejected(): Ride {
  return changedRide(rejectRide(aRequestedRide(), 'no_driver_available', change()));
}
const terminalRides: Array<[string, () => Ride]> = [
  ['COMPLETED', completed],
  ['CANCELLED', cancelled],
  ['REJECTED', rejected],
];

describe('ride domain', () => {
  describe('requesting a ride', () => {
    it('creates a REQUESTED ride with its first history entry and emits ride.requested', () => {
      const rider = aRider();
      const at = change();
      const decision = requestRide(
        { id: 'ride-1', rider, pickup: PICKUP, dropoff: DROPOFF, paymentMethod: 'pm_card_visa', sortKey: 'k' },
        at,
      );
      const ride = changedRide(decision);
      expect(ride).to.include({ id: 'ride-1', riderId: rider.id, status: 'REQUESTED', version: 1, createdAt: at.at, updatedAt: at.at });
      expect(ride.history).to.deep.equal([{ status: 'REQUESTED', at: at.at, cause: at.cause }]);
      expect(decision.changed && decision.events).to.deep.equal([
        {
          type: 'ride.requested',
          payload: {
            rideId: 'ride-1',
            rider: { id: rider.id, name: rider.name, email: rider.email },
            pickup: PICKUP,
            dropoff: DROPOFF,
            paymentMethod: 'pm_card_visa',
            requestedAt: at.at,
          },
        },
      ]);
    });

    it('refuses an inactive rider', () => {
      const rider = aRider({ status: 'INACTIVE' });
      const decision = requestRide(
        { id: 'r', rider, pickup: PICKUP, dropoff: DROPOFF, paymentMethod: 'pm_card_visa', sortKey: 'k' },
        change(),
      );
      expect(refusalOf(decision)).to.equal('rider-inactive');
    });
  });

  describe('on driver.assigned', () => {
    it('moves REQUESTED to DRIVER_ASSIGNED and records the driver, emitting nothing', () => {
      const at = change();
      const decision = assignDriver(aRequestedRide(), driver, at);
      const ride = changedRide(decision);
      expect(ride.status).to.equal('DRIVER_ASSIGNED');
      expect(ride.driver).to.deep.equal(driver);
      expect(ride.history.at(-1)).to.deep.equal({ status: 'DRIVER_ASSIGNED', at: at.at, cause: at.cause });
      expect(decision.changed && decision.events).to.deep.equal([]);
    });

    it('changes nothing when it arrives after payment.authorized already named the driver', () => {
      const early = changedRide(confirmRide(aRequestedRide(), auth, change()));
      expect(refusalOf(assignDriver(early, driver, change()))).to.equal('already-recorded');
    });

    it('only fills in the driver of a confirmed ride that lacks one (one stored before payloads carried it)', () => {
      const early = changedRide(confirmRide(aRequestedRide(), auth, change()));
      const withoutDriver: Ride = { ...early, driver: undefined };
      const ride = changedRide(assignDriver(withoutDriver, driver, change()));
      expect(ride.status).to.equal('CONFIRMED');
      expect(ride.driver).to.deep.equal(driver);
      expect(ride.history).to.have.length(early.history.length);
    });

    it('changes nothing when the driver is already known', () => {
      expect(refusalOf(assignDriver(assigned(), driver, change()))).to.equal('already-recorded');
      expect(refusalOf(assignDriver(confirmed(), driver, change()))).to.equal('already-recorded');
    });

    for (const [status, make] of terminalRides) {
      it(`changes nothing on a ${status} ride`, () => {
        expect(refusalOf(assignDriver(make(), aDriver(), change()))).to.equal('terminal');
      });
    }
  });

  describe('on fare.calculated', () => {
    it('records the quote once, in any status, terminal ones included', () => {
      for (const ride of [aRequestedRide(), confirmed(), cancelled(), rejected()]) {
        const next = changedRide(recordFare(ride, { amount: 990, currency: 'EUR' }, change()));
        expect(next.fare).to.deep.equal({ amount: 990, currency: 'EUR' });
        expect(next.status).to.equal(ride.status);
        expect(refusalOf(recordFare(next, { amount: 1, currency: 'EUR' }, change()))).to.equal('already-recorded');
      }
    });
  });

  describe('on payment.authorized', () => {
    it('confirms a DRIVER_ASSIGNED ride and emits ride.confirmed with the quoted fare', () => {
      const quoted = changedRide(recordFare(assigned(), { amount: 1500, currency: 'EUR' }, change()));
      const decision = confirmRide(quoted, auth, change());
      const ride = changedRide(decision);
      expect(ride.status).to.equal('CONFIRMED');
      expect(decision.changed && decision.events[0]).to.deep.equal({
        type: 'ride.confirmed',
        payload: {
          rideId: ride.id,
          rider: ride.rider,
          driver,
          pickup: ride.pickup,
          dropoff: ride.dropoff,
          fare: { amount: 1500, currency: 'EUR' },
        },
      });
    });

    it('confirms a REQUESTED ride (driver.assigned not seen yet) with the payload driver', () => {
      const ride = changedRide(confirmRide(aRequestedRide(), auth, change()));
      expect(ride.status).to.equal('CONFIRMED');
      expect(ride.driver).to.deep.equal(driver);
    });

    it('changes nothing on a ride already CONFIRMED', () => {
      expect(refusalOf(confirmRide(confirmed(), auth, change()))).to.equal('already-recorded');
    });

    for (const [status, make] of terminalRides) {
      it(`changes nothing on a ${status} ride`, () => {
        expect(refusalOf(confirmRide(make(), auth, change()))).to.equal('terminal');
      });
    }
  });

  describe('on payment.declined', () => {
    it('cancels a DRIVER_ASSIGNED ride with reason payment_declined, naming the driver', () => {
      const decision = declinePayment(assigned(), change());
      const ride = changedRide(decision);
      expect(ride).to.include({ status: 'CANCELLED', reason: 'payment_declined' });
      expect(ride.endedAt).to.be.a('string');
      expect(decision.changed && decision.events).to.deep.equal([
        { type: 'ride.cancelled', payload: { rideId: ride.id, rider: ride.rider, driver, reason: 'payment_declined' } },
      ]);
    });

    it('cancels a REQUESTED ride too (the decline overtook driver.assigned), without a driver', () => {
      const decision = declinePayment(aRequestedRide(), change());
      expect(changedRide(decision).status).to.equal('CANCELLED');
      expect(decision.changed && decision.events[0]?.payload).to.not.have.property('driver');
    });

    it('changes nothing on a CONFIRMED ride or a terminal one', () => {
      expect(refusalOf(declinePayment(confirmed(), change()))).to.equal('wrong-status');
      for (const [, make] of terminalRides) expect(refusalOf(declinePayment(make(), change()))).to.equal('terminal');
    });
  });

  describe('on driver.unavailable', () => {
    it('rejects a REQUESTED ride and emits ride.rejected', () => {
      const decision = rejectRide(aRequestedRide(), 'no_driver_available', change());
      const ride = changedRide(decision);
      expect(ride).to.include({ status: 'REJECTED', reason: 'no_driver_available' });
      expect(decision.changed && decision.events.map((e) => e.type)).to.deep.equal(['ride.rejected']);
    });

    it('changes nothing on a ride that has a driver or has ended', () => {
      expect(refusalOf(rejectRide(assigned(), 'x', change()))).to.equal('wrong-status');
      for (const [, make] of terminalRides) expect(refusalOf(rejectRide(make(), 'x', change()))).to.equal('terminal');
    });
  });

  describe('rider cancels', () => {
    for (const [status, make] of [
      ['REQUESTED', aRequestedRide],
      ['DRIVER_ASSIGNED', assigned],
      ['CONFIRMED', confirmed],
    ] as Array<[string, () => Ride]>) {
      it(`cancels a ${status} ride with reason rider_cancelled`, () => {
        const decision = cancelByRider(make(), change());
        expect(changedRide(decision)).to.include({ status: 'CANCELLED', reason: 'rider_cancelled' });
        expect(decision.changed && decision.events.map((e) => e.type)).to.deep.equal(['ride.cancelled']);
      });
    }

    for (const [status, make] of terminalRides) {
      it(`refuses a ${status} ride`, () => {
        expect(refusalOf(cancelByRider(make(), change()))).to.equal('terminal');
      });
    }
  });

  describe('rider completes', () => {
    it('completes a CONFIRMED ride and emits ride.completed with driver and fare', () => {
      const quoted = changedRide(recordFare(confirmed(), { amount: 777, currency: 'EUR' }, change()));
      const at = change();
      const decision = completeRide(quoted, at);
      const ride = changedRide(decision);
      expect(ride).to.include({ status: 'COMPLETED', endedAt: at.at });
      expect(isTerminal(ride.status)).to.equal(true);
      expect(decision.changed && decision.events).to.deep.equal([
        {
          type: 'ride.completed',
          payload: { rideId: ride.id, rider: ride.rider, driver, fare: { amount: 777, currency: 'EUR' }, completedAt: at.at },
        },
      ]);
    });

    it('refuses every other status', () => {
      expect(refusalOf(completeRide(aRequestedRide(), change()))).to.equal('wrong-status');
      expect(refusalOf(completeRide(assigned(), change()))).to.equal('wrong-status');
      for (const [, make] of terminalRides) expect(refusalOf(completeRide(make(), change()))).to.equal('terminal');
    });
  });

  describe('on payment.captured', () => {
    it('records what was paid, once per ride', () => {
      const paid = { paymentId: 'p1', amount: 777, currency: 'EUR', capturedAt: '2030-01-01T10:00:00.000Z' };
      const ride = changedRide(recordCapture(completed(), paid, change()));
      expect(ride.paid).to.deep.equal(paid);
      expect(ride.status).to.equal('COMPLETED');
      expect(refusalOf(recordCapture(ride, paid, change()))).to.equal('already-recorded');
    });
  });

  describe('rating', () => {
    it('rates a COMPLETED ride once and emits ride.rated', () => {
      const at = change();
      const decision = rateRide(completed(), { stars: 4, comment: 'smooth' }, at);
      const ride = changedRide(decision);
      expect(ride.rating).to.deep.equal({ stars: 4, comment: 'smooth', ratedAt: at.at });
      expect(decision.changed && decision.events).to.deep.equal([
        { type: 'ride.rated', payload: { rideId: ride.id, riderId: ride.riderId, driverId: driver.id, stars: 4 } },
      ]);
      expect(refusalOf(rateRide(ride, { stars: 5 }, change()))).to.equal('already-recorded');
    });

    it('refuses a ride that is not COMPLETED', () => {
      for (const ride of [aRequestedRide(), assigned(), confirmed(), cancelled(), rejected()]) {
        expect(refusalOf(rateRide(ride, { stars: 5 }, change()))).to.equal('wrong-status');
      }
    });
  });

  it('never moves updatedAt back, whatever the clock of a later change says', () => {
    const ride = assigned();
    const stale = changedRide(recordFare(ride, { amount: 1, currency: 'EUR' }, { at: '2000-01-01T00:00:00.000Z', cause: 'm' }));
    expect(stale.updatedAt).to.equal(ride.updatedAt);
  });
});
