// The rider summary rules: what each change adds, duplicates counted once, and every order of the end-of-trip events giving the same totals.
import { expect } from 'chai';
import {
  assignDriver,
  cancelByRider,
  completeRide,
  confirmRide,
  declinePayment,
  rateRide,
  recordCapture,
  recordFare,
  rejectRide,
  type Change,
  type Decision,
  type Ride,
} from '../../../src/domain/ride';
import {
  applyTripChange,
  contribution,
  emptySummary,
  recomputeSummary,
  summaryDrifts,
  totalsOf,
  tripOf,
  type RiderSummary,
} from '../../../src/domain/tripHistory';
import { aDriver } from '@ridehail/shared/testing';
import { aRequestedRide, aRider, change } from '../../factories';

const driver = aDriver();
const auth = { driver, fare: { amount: 2500, currency: 'EUR' } };

/** A rider's trips and summary, moved the way the store moves them: summary + contribution(after) − contribution(before). */
class Rider {
  readonly rider = aRider();
  summary: RiderSummary = emptySummary(this.rider.id, 'EUR');
  readonly trips = new Map<string, Ride>();

  request(at: Change = change()): Ride {
    const ride = aRequestedRide(this.rider, at);
    this.summary = applyTripChange(this.summary, null, ride);
    this.trips.set(ride.id, ride);
    return ride;
  }

  /** Applies a decision about one of the rider's trips; a refused one changes nothing. Returns whether it changed. */
  apply(rideId: string, decide: (ride: Ride) => Decision): boolean {
    const before = this.trips.get(rideId);
    if (!before) throw new Error(`no trip ${rideId}`);
    const decision = decide(before);
    if (!decision.changed) return false;
    this.summary = applyTripChange(this.summary, before, decision.ride);
    this.trips.set(rideId, decision.ride);
    return true;
  }

  trip(rideId: string): Ride {
    const ride = this.trips.get(rideId);
    if (!ride) throw new Error(`no trip ${rideId}`);
    return ride;
  }

  recomputed(): RiderSummary {
    return recomputeSummary(this.rider.id, this.trips.values(), 'EUR');
  }
}

function confirmedTrip(r: Rider): Ride {
  const ride = r.request();
  r.apply(ride.id, (x) => assignDriver(x, driver, change()));
  r.apply(ride.id, (x) => confirmRide(x, auth, change()));
  return r.trip(ride.id);
}

/** Every distinct ordering of a multiset of items (items equal by key are interchangeable). */
function distinctPermutations<T>(items: T[], key: (item: T) => string): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(key(item))) return;
    seen.add(key(item));
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of distinctPermutations(rest, key)) out.push([item, ...tail]);
  });
  return out;
}

describe('rider trip summary rules', () => {
  describe('contribution of one trip', () => {
    it('is nothing for no trip', () => {
      expect(contribution(null)).to.deep.equal({ requested: 0, completed: 0, cancelled: 0, rejected: 0, spent: 0, lastTripAt: null });
    });

    it('counts a requested trip, its ending status, what was paid and its latest change', () => {
      const r = new Rider();
      const ride = confirmedTrip(r);
      r.apply(ride.id, (x) => completeRide(x, change()));
      r.apply(ride.id, (x) =>
        recordCapture(x, { paymentId: 'p', amount: 2500, currency: 'EUR', capturedAt: '2030-01-01T00:00:00.000Z' }, change()),
      );
      const trip = r.trip(ride.id);
      expect(contribution(trip)).to.deep.equal({
        requested: 1,
        completed: 1,
        cancelled: 0,
        rejected: 0,
        spent: 2500,
        lastTripAt: trip.updatedAt,
      });
    });
  });

  describe('each change', () => {
    it('ride requested: requested + 1 and lastTripAt = its time', () => {
      const r = new Rider();
      const at = change();
      r.request(at);
      expect(totalsOf(r.summary)).to.deep.equal({
        requested: 1,
        completed: 0,
        cancelled: 0,
        rejected: 0,
        spent: { amount: 0, currency: 'EUR' },
        lastTripAt: at.at,
      });
    });

    it('driver assigned, fare quoted and ride confirmed: counts unchanged, lastTripAt moves', () => {
      const r = new Rider();
      const ride = r.request();
      for (const decide of [
        (x: Ride) => assignDriver(x, driver, change()),
        (x: Ride) => recordFare(x, { amount: 2500, currency: 'EUR' }, change()),
        (x: Ride) => confirmRide(x, auth, change()),
      ]) {
        r.apply(ride.id, decide);
        expect(r.summary).to.include({ requested: 1, completed: 0, cancelled: 0, rejected: 0 });
        expect(r.summary.lastTripAt).to.equal(r.trip(ride.id).updatedAt);
      }
    });

    it('payment declined: cancelled + 1', () => {
      const r = new Rider();
      const ride = r.request();
      r.apply(ride.id, (x) => declinePayment(x, change()));
      expect(r.summary).to.include({ requested: 1, cancelled: 1, completed: 0, rejected: 0 });
    });

    it('rider cancelled: cancelled + 1', () => {
      const r = new Rider();
      const ride = confirmedTrip(r);
      r.apply(ride.id, (x) => cancelByRider(x, change()));
      expect(r.summary).to.include({ requested: 1, cancelled: 1 });
    });

    it('driver unavailable: rejected + 1', () => {
      const r = new Rider();
      const ride = r.request();
      r.apply(ride.id, (x) => rejectRide(x, 'no_driver_available', change()));
      expect(r.summary).to.include({ requested: 1, rejected: 1, cancelled: 0 });
    });

    it('ride completed: completed + 1', () => {
      const r = new Rider();
      const ride = confirmedTrip(r);
      r.apply(ride.id, (x) => completeRide(x, change()));
      expect(r.summary).to.include({ requested: 1, completed: 1 });
    });

    it('payment captured: spent + amount', () => {
      const r = new Rider();
      const ride = confirmedTrip(r);
      r.apply(ride.id, (x) => completeRide(x, change()));
      r.apply(ride.id, (x) =>
        recordCapture(x, { paymentId: 'p', amount: 2500, currency: 'EUR', capturedAt: '2030-01-01T00:00:00.000Z' }, change()),
      );
      expect(r.summary.spent).to.deep.equal({ amount: 2500, currency: 'EUR' });
      expect(tripOf(r.trip(ride.id)).paid).to.deep.equal({ amount: 2500, currency: 'EUR' });
    });

    it('ride rated: counts unchanged, lastTripAt = the rating time, the trip shows its stars', () => {
      const r = new Rider();
      const ride = confirmedTrip(r);
      r.apply(ride.id, (x) => completeRide(x, change()));
      const at = change();
      r.apply(ride.id, (x) => rateRide(x, { stars: 5 }, at));
      expect(r.summary).to.include({ requested: 1, completed: 1, lastTripAt: at.at });
      expect(tripOf(r.trip(ride.id)).rating).to.equal(5);
    });

    it('sums over several trips and equals its recomputation', () => {
      const r = new Rider();
      const a = confirmedTrip(r);
      const b = r.request();
      const c = r.request();
      r.apply(a.id, (x) => completeRide(x, change()));
      r.apply(b.id, (x) => rejectRide(x, 'no_driver_available', change()));
      r.apply(c.id, (x) => cancelByRider(x, change()));
      expect(r.summary).to.include({ requested: 3, completed: 1, rejected: 1, cancelled: 1 });
      expect(r.summary).to.deep.equal(r.recomputed());
    });
  });

  describe('duplicates', () => {
    const duplicates: Array<[string, (x: Ride) => Decision]> = [
      ['driver.assigned', (x) => assignDriver(x, driver, change())],
      ['fare.calculated', (x) => recordFare(x, { amount: 2500, currency: 'EUR' }, change())],
      ['payment.authorized', (x) => confirmRide(x, auth, change())],
      ['ride.completed', (x) => completeRide(x, change())],
      [
        'payment.captured',
        (x) => recordCapture(x, { paymentId: 'p', amount: 2500, currency: 'EUR', capturedAt: '2030-01-01T00:00:00.000Z' }, change()),
      ],
      ['ride.rated', (x) => rateRide(x, { stars: 3 }, change())],
    ];

    it('each fact of a trip counts once, however often it is applied', () => {
      const r = new Rider();
      const ride = r.request();
      for (const [name, decide] of duplicates) {
        expect(r.apply(ride.id, decide), `${name} first time`).to.equal(true);
        const once = { ...r.summary };
        expect(r.apply(ride.id, decide), `${name} again`).to.equal(false);
        expect(r.summary, `${name} again`).to.deep.equal(once);
      }
      expect(totalsOf(r.summary)).to.deep.include({ requested: 1, completed: 1, spent: { amount: 2500, currency: 'EUR' } });
      expect(r.summary).to.deep.equal(r.recomputed());
    });

    it('an ending counts once even when a second ending is attempted', () => {
      const r = new Rider();
      const ride = r.request();
      r.apply(ride.id, (x) => declinePayment(x, change()));
      r.apply(ride.id, (x) => cancelByRider(x, change()));
      r.apply(ride.id, (x) => rejectRide(x, 'late', change()));
      expect(r.summary).to.include({ requested: 1, cancelled: 1, rejected: 0 });
    });
  });

  describe('every order of ride.completed, payment.captured and ride.rated', () => {
    type Effect = { name: 'ride.completed' | 'payment.captured' | 'ride.rated'; at: Change };
    // Fixed times, so every play of the same facts can be compared: the trip's earlier changes first, then the three events.
    const earlier = { requested: change(), assigned: change(), confirmed: change() };
    const T = { completed: change(), captured: change(), rated: change() };
    const decide =
      (effect: Effect) =>
      (x: Ride): Decision => {
        switch (effect.name) {
          case 'ride.completed':
            return completeRide(x, effect.at);
          case 'payment.captured':
            return recordCapture(x, { paymentId: 'p', amount: 2500, currency: 'EUR', capturedAt: effect.at.at }, effect.at);
          case 'ride.rated':
            return rateRide(x, { stars: 4 }, effect.at);
        }
      };
    const effects: Effect[] = [
      { name: 'ride.completed', at: T.completed },
      { name: 'payment.captured', at: T.captured },
      { name: 'ride.rated', at: T.rated },
    ];

    /**
     * Plays effects in the given order on a fresh CONFIRMED trip of a rider who has one other trip. A rating refused
     * because the ride is not COMPLETED yet is what the rider would see as 409 and send again: it goes to the back.
     */
    function play(order: Effect[]): { summary: RiderSummary; recomputed: RiderSummary; trip: Ride } {
      const r = new Rider();
      const other = r.request(earlier.requested);
      r.apply(other.id, (x) => rejectRide(x, 'no_driver_available', earlier.assigned));
      const ride = r.request(earlier.requested);
      r.apply(ride.id, (x) => assignDriver(x, driver, earlier.assigned));
      r.apply(ride.id, (x) => confirmRide(x, auth, earlier.confirmed));
      const queue = [...order];
      for (let guard = 0; queue.length > 0 && guard < 20; guard++) {
        const effect = queue.shift() as Effect;
        const trip = r.trip(ride.id);
        const decision = decide(effect)(trip);
        if (!decision.changed && decision.refusal === 'wrong-status') queue.push(effect);
        else r.apply(ride.id, () => decision);
      }
      expect(queue, 'effects left unapplied').to.deep.equal([]);
      return { summary: r.summary, recomputed: r.recomputed(), trip: r.trip(ride.id) };
    }

    const orders = distinctPermutations(effects, (e) => e.name);
    const withDuplicates = distinctPermutations([...effects, ...effects], (e) => e.name);

    it('generates all 6 orders of the three events and all 90 of the three events each delivered twice', () => {
      expect(orders).to.have.length(6);
      expect(withDuplicates).to.have.length(90);
    });

    it('gives the same totals and the same trip in every order, duplicates included', () => {
      const reference = play(orders[0] as Effect[]);
      expect(totalsOf(reference.summary)).to.deep.equal({
        requested: 2,
        completed: 1,
        cancelled: 0,
        rejected: 1,
        spent: { amount: 2500, currency: 'EUR' },
        lastTripAt: [T.completed.at, T.captured.at, T.rated.at].sort().at(-1),
      });
      for (const order of [...orders, ...withDuplicates]) {
        const outcome = play(order);
        const label = order.map((e) => e.name).join(' → ');
        expect(totalsOf(outcome.summary), label).to.deep.equal(totalsOf(reference.summary));
        expect(outcome.summary, `${label}: stored equals recomputed`).to.deep.equal(outcome.recomputed);
        expect(tripOf(outcome.trip), label).to.deep.equal({
          ...tripOf(reference.trip),
          rideId: outcome.trip.id,
          requestedAt: outcome.trip.createdAt,
        });
      }
    });
  });

  describe('drift', () => {
    it('finds no drift in a summary equal to its recomputation', () => {
      const r = new Rider();
      confirmedTrip(r);
      expect(summaryDrifts(r.summary, r.recomputed())).to.deep.equal([]);
    });

    it('names each field that differs, with both values', () => {
      const r = new Rider();
      confirmedTrip(r);
      const stored = { ...r.summary, requested: 7, spent: { amount: 99, currency: 'EUR' } };
      expect(summaryDrifts(stored, r.recomputed())).to.deep.equal([
        { field: 'requested', stored: 7, recomputed: 1 },
        { field: 'spent.amount', stored: 99, recomputed: 0 },
      ]);
    });

    it('reads a missing summary as zeros: a drift only when the rider has trips', () => {
      const r = new Rider();
      expect(summaryDrifts(null, r.recomputed())).to.deep.equal([]);
      const ride = r.request();
      expect(summaryDrifts(null, r.recomputed())).to.deep.equal([
        { field: 'requested', stored: 0, recomputed: 1 },
        { field: 'lastTripAt', stored: null, recomputed: ride.updatedAt },
      ]);
    });
  });
});
