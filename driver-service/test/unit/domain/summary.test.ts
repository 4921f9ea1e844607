import { expect } from 'chai';
import {
  applyTripChange,
  averageRating,
  contribution,
  emptySummary,
  noContribution,
  recompute,
  summaryView,
  totalsOf,
  type DriverTripSummary,
} from '../../../src/domain/summary';
import {
  assignDriver,
  cancel,
  complete,
  confirm,
  isDecided,
  markUnavailable,
  pendingRecord,
  recordCapture,
  recordRating,
  type RideAssignment,
} from '../../../src/domain/trip';
import { distinctPermutations, permutations } from '../../factories';

const ASSIGNED_AT = '2030-01-01T10:00:00.000Z';
const CONFIRMED_AT = '2030-01-01T10:01:00.000Z';
const COMPLETED_AT = '2030-01-01T10:30:00.000Z';
const CAPTURED_AT = '2030-01-01T10:30:05.000Z';
const RATED_AT = '2030-01-01T11:00:00.000Z';

type Step = { name: string; apply: (rec: RideAssignment | null) => RideAssignment | null };

const steps = {
  assign: { name: 'assigned', apply: (r) => (isDecided(r) ? null : assignDriver(r, 'r1', 'd1', ASSIGNED_AT, `${ASSIGNED_AT}|r1`)) },
  confirm: { name: 'confirmed', apply: (r) => (r === null ? null : confirm(r, CONFIRMED_AT)) },
  complete: { name: 'completed', apply: (r) => (r === null ? null : complete(r, COMPLETED_AT)) },
  capture: {
    name: 'captured',
    apply: (r) => recordCapture(r, 'r1', { paymentId: 'p1', amount: { amount: 1250, currency: 'EUR' }, at: CAPTURED_AT }),
  },
  rate: { name: 'rated', apply: (r) => recordRating(r, 'r1', 4, RATED_AT) },
} satisfies Record<string, Step>;

/** Runs the steps as the handlers do: each change moves the summary by contribution(new) − contribution(old). */
function run(order: Step[], start: RideAssignment | null = null): { trip: RideAssignment | null; summary: DriverTripSummary } {
  let trip = start;
  let summary = emptySummary('d1', 'EUR');
  if (start !== null) summary = applyTripChange(summary, null, start) ?? summary;
  for (const step of order) {
    const next = step.apply(trip);
    if (next === null) continue;
    summary = applyTripChange(summary, trip, next) ?? summary;
    trip = next;
  }
  return { trip, summary };
}

const expectedTotals = { completed: 1, earnings: 1250, ratingSum: 4, ratingCount: 1, lastTripAt: RATED_AT };

describe('driver trip-history summary (domain)', () => {
  describe('contribution(trip)', () => {
    it('is nothing for a record with no driver: pending, unavailable, or cancelled before the request', () => {
      expect(contribution(null)).to.deep.equal(noContribution);
      expect(contribution(recordRating(pendingRecord('r1', ASSIGNED_AT), 'r1', 5, RATED_AT))).to.deep.equal(noContribution);
      expect(contribution(markUnavailable(null, 'r1', ASSIGNED_AT))).to.deep.equal(noContribution);
      expect(contribution(cancel(null, 'r1', 'rider_cancelled', ASSIGNED_AT)?.next ?? null)).to.deep.equal(noContribution);
    });

    it('counts a completed trip once, its captured amount and its rating', () => {
      const done = run([steps.assign, steps.confirm, steps.complete, steps.capture, steps.rate]).trip;
      expect(contribution(done)).to.deep.equal(expectedTotals);
    });

    it('a cancelled trip is not completed, but still dates the driver’s last trip', () => {
      const t = cancel(run([steps.assign]).trip, 'r1', 'payment_declined', CONFIRMED_AT)?.next ?? null;
      expect(contribution(t)).to.deep.equal({ ...noContribution, lastTripAt: CONFIRMED_AT });
    });
  });

  describe('applyTripChange', () => {
    it('is null when the change does not move the totals of this driver', () => {
      const a = run([steps.assign]).trip as RideAssignment;
      expect(applyTripChange(emptySummary('d1', 'EUR'), a, a)).to.equal(null);
      expect(applyTripChange(emptySummary('someone-else', 'EUR'), null, a)).to.equal(null);
    });

    it('adds the difference of contributions and keeps the latest lastTripAt', () => {
      const before = run([steps.assign, steps.confirm]).trip as RideAssignment;
      const after = complete(before, COMPLETED_AT) as RideAssignment;
      const s = applyTripChange({ ...emptySummary('d1', 'EUR'), completed: 7, lastTripAt: '2031-01-01T00:00:00.000Z' }, before, after);
      expect(s?.completed).to.equal(8);
      expect(s?.lastTripAt).to.equal('2031-01-01T00:00:00.000Z');
    });
  });

  describe('order and duplicates', () => {
    const three = [steps.complete, steps.capture, steps.rate];

    for (const order of permutations(three)) {
      it(`${order.map((s) => s.name).join(' → ')} gives the same totals`, () => {
        const { trip, summary } = run(order, run([steps.assign, steps.confirm]).trip);
        expect(totalsOf(summary)).to.deep.equal(expectedTotals);
        expect(recompute('d1', trip ? [trip] : [])).to.deep.equal(totalsOf(summary));
      });
    }

    it('every order of completed, captured and rated, each delivered twice, gives the same totals (90 orders)', () => {
      const orders = distinctPermutations([...three, ...three], (s) => s.name);
      expect(orders).to.have.length(90);
      for (const order of orders) {
        const { trip, summary } = run(order, run([steps.assign, steps.confirm]).trip);
        expect(totalsOf(summary), order.map((s) => s.name).join(',')).to.deep.equal(expectedTotals);
        expect(trip?.status).to.equal('COMPLETED');
      }
    });

    it('a capture or rating that arrives before the trip exists is counted when it appears, in every causal order', () => {
      const all = permutations([steps.assign, steps.confirm, steps.complete, steps.capture, steps.rate]);
      // The trip cannot be confirmed or completed before this service assigned it; everything else may come in any order.
      const causal = all.filter(
        (o) => o.indexOf(steps.assign) < o.indexOf(steps.confirm) && o.indexOf(steps.assign) < o.indexOf(steps.complete),
      );
      expect(causal).to.have.length(40);
      for (const order of causal) {
        const { trip, summary } = run(order);
        expect(totalsOf(summary), order.map((s) => s.name).join(',')).to.deep.equal(expectedTotals);
        expect(trip).to.include({ status: 'COMPLETED', driverId: 'd1', rating: 4 });
      }
    });
  });

  describe('summaryView', () => {
    it('reads zeros and a null lastTripAt with no trips', () => {
      expect(summaryView(emptySummary('d1', 'EUR'))).to.deep.equal({
        completed: 0,
        earnings: { amount: 0, currency: 'EUR' },
        rating: { average: 0, count: 0 },
        lastTripAt: null,
      });
    });

    it('rounds the average rating to two decimals', () => {
      expect(averageRating(14, 3)).to.equal(4.67);
      expect(averageRating(10, 4)).to.equal(2.5);
      expect(averageRating(0, 0)).to.equal(0);
    });
  });
});
