import { expect } from 'chai';
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
  releaseReasonFor,
  type RideAssignment,
} from '../../../src/domain/trip';

const T0 = '2030-01-01T10:00:00.000Z';
const T1 = '2030-01-01T10:05:00.000Z';
const T2 = '2030-01-01T10:30:00.000Z';

const assigned = (): RideAssignment => assignDriver(null, 'r1', 'd1', T0, `${T0}|r1`);
const confirmed = (): RideAssignment => confirm(assigned(), T1) as RideAssignment;
const completed = (): RideAssignment => complete(confirmed(), T2) as RideAssignment;

describe('trip domain (the per-ride record)', () => {
  describe('deciding once per ride', () => {
    it('a ride with no record, or only an early fact about it, is undecided', () => {
      expect(isDecided(null)).to.equal(false);
      expect(isDecided(pendingRecord('r1', T0))).to.equal(false);
      expect(isDecided(recordRating(null, 'r1', 4, T0))).to.equal(false);
    });

    it('assigning makes a DRIVER_ASSIGNED trip of that driver, paged by assignment time', () => {
      const t = assigned();
      expect(t).to.include({
        id: 'r1',
        status: 'DRIVER_ASSIGNED',
        driverId: 'd1',
        assignedAt: T0,
        sortKey: `${T0}|r1`,
        lastChangedAt: T0,
        version: 1,
      });
      expect(isDecided(t)).to.equal(true);
    });

    it('no driver in range is UNAVAILABLE, decided, and no trip of anyone', () => {
      const t = markUnavailable(null, 'r1', T0);
      expect(t.status).to.equal('UNAVAILABLE');
      expect(t).not.to.have.property('driverId');
      expect(isDecided(t)).to.equal(true);
    });

    it('refuses to decide a ride twice', () => {
      expect(() => assignDriver(assigned(), 'r1', 'd2', T1, 'k')).to.throw(/already decided/);
      expect(() => markUnavailable(assigned(), 'r1', T1)).to.throw(/already decided/);
    });

    it('a capture and a rating that came early are kept on the trip once it is assigned', () => {
      const early = recordRating(
        recordCapture(null, 'r1', { paymentId: 'p1', amount: { amount: 900, currency: 'EUR' }, at: T2 }),
        'r1',
        4,
        T1,
      );
      const t = assignDriver(early, 'r1', 'd1', T0, 'k');
      expect(t).to.include({ status: 'DRIVER_ASSIGNED', rating: 4, paymentId: 'p1', lastChangedAt: T2 });
      expect(t.earned).to.deep.equal({ amount: 900, currency: 'EUR' });
    });
  });

  describe('confirm', () => {
    it('DRIVER_ASSIGNED → CONFIRMED', () => {
      expect(confirmed()).to.include({ status: 'CONFIRMED', lastChangedAt: T1 });
    });

    it('is no change for a trip confirmed, completed or cancelled already', () => {
      expect(confirm(confirmed(), T2)).to.equal(null);
      expect(confirm(completed(), T2)).to.equal(null);
      expect(confirm((cancel(assigned(), 'r1', 'rider_cancelled', T1) as { next: RideAssignment }).next, T2)).to.equal(null);
    });
  });

  describe('complete', () => {
    it('CONFIRMED → COMPLETED with endedAt', () => {
      expect(completed()).to.include({ status: 'COMPLETED', endedAt: T2, lastChangedAt: T2 });
    });

    it('also completes a trip whose confirmation is still on its way', () => {
      expect(complete(assigned(), T2)?.status).to.equal('COMPLETED');
    });

    it('is no change for a completed, cancelled, unavailable or pending record', () => {
      expect(complete(completed(), T2)).to.equal(null);
      expect(complete((cancel(assigned(), 'r1', 'rider_cancelled', T1) as { next: RideAssignment }).next, T2)).to.equal(null);
      expect(complete(markUnavailable(null, 'r1', T0), T2)).to.equal(null);
      expect(complete(pendingRecord('r1', T0), T2)).to.equal(null);
    });
  });

  describe('cancel', () => {
    it('releases the driver of a DRIVER_ASSIGNED or CONFIRMED trip', () => {
      for (const t of [assigned(), confirmed()]) {
        const out = cancel(t, 'r1', 'rider_cancelled', T2);
        expect(out?.next).to.include({ status: 'CANCELLED', cancelReason: 'rider_cancelled', endedAt: T2 });
        expect(out?.release).to.deep.equal({ driverId: 'd1', reason: 'cancelled' });
      }
    });

    it('names the release after a payment decline when that was the cause', () => {
      expect(cancel(assigned(), 'r1', 'payment_declined', T1)?.release).to.deep.equal({ driverId: 'd1', reason: 'payment_declined' });
      expect(releaseReasonFor('payment_declined')).to.equal('payment_declined');
      expect(releaseReasonFor('rider_cancelled')).to.equal('cancelled');
    });

    it('remembers a cancellation that arrives before the request, so the ride is decided with no driver', () => {
      const out = cancel(null, 'r1', 'rider_cancelled', T0);
      expect(out?.release).to.equal(null);
      expect(out?.next.status).to.equal('CANCELLED');
      expect(out?.next).not.to.have.property('driverId');
      expect(isDecided(out?.next ?? null)).to.equal(true);
    });

    it('releases nothing a second time, nor for a completed or driverless ride', () => {
      const once = cancel(assigned(), 'r1', 'payment_declined', T1);
      expect(cancel(once?.next ?? null, 'r1', 'payment_declined', T2)).to.equal(null);
      expect(cancel(completed(), 'r1', 'rider_cancelled', T2)).to.equal(null);
      expect(cancel(markUnavailable(null, 'r1', T0), 'r1', 'rider_cancelled', T1)).to.equal(null);
    });
  });

  describe('capture and rating', () => {
    it('records one capture per payment and one rating per ride', () => {
      const captured = recordCapture(completed(), 'r1', { paymentId: 'p1', amount: { amount: 1000, currency: 'EUR' }, at: T2 });
      expect(captured?.earned).to.deep.equal({ amount: 1000, currency: 'EUR' });
      expect(recordCapture(captured, 'r1', { paymentId: 'p1', amount: { amount: 1000, currency: 'EUR' }, at: T2 })).to.equal(null);
      const rated = recordRating(captured, 'r1', 3, T2);
      expect(rated?.rating).to.equal(3);
      expect(recordRating(rated, 'r1', 5, T2)).to.equal(null);
    });

    it('keeps the latest event time as lastChangedAt whatever the order', () => {
      const late = '2030-01-02T00:00:00.000Z';
      const a = recordRating(
        recordCapture(completed(), 'r1', { paymentId: 'p', amount: { amount: 1, currency: 'EUR' }, at: late }),
        'r1',
        4,
        T1,
      );
      const b = recordCapture(recordRating(completed(), 'r1', 4, T1), 'r1', {
        paymentId: 'p',
        amount: { amount: 1, currency: 'EUR' },
        at: late,
      });
      expect(a?.lastChangedAt).to.equal(late);
      expect(b?.lastChangedAt).to.equal(late);
    });
  });
});
