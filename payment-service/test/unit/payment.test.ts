import { expect } from 'chai';
import { aDriver } from '@ridehail/shared/testing';
import {
  capturePayment,
  emptyLedger,
  paymentIdFor,
  planAuthorization,
  planCancellation,
  quoteOnRideRequested,
  recordAuthorization,
  rememberCancellation,
  voidPayment,
  type Payment,
} from '../../src/domain/payment';
import { quoteFare } from '../../src/domain/fare';
import { aRide, driverAssigned, dropoff, pickup, tariff } from '../factories';

const at = '2024-05-01T10:00:00.000Z';
const later = '2024-05-01T10:05:00.000Z';

function authorized(): Payment {
  const ride = aRide();
  return recordAuthorization(
    null,
    driverAssigned(ride).payload,
    quoteFare(pickup, dropoff, tariff),
    { outcome: 'authorized', authorizationId: 'auth_1' },
    at,
  ).payment;
}

describe('payment-service domain', () => {
  it('derives one payment id per ride', () => {
    expect(paymentIdFor('ride-1')).to.equal(paymentIdFor('ride-1'));
    expect(paymentIdFor('ride-1')).to.not.equal(paymentIdFor('ride-2'));
  });

  describe('the quote', () => {
    it('is emitted once per ride', () => {
      const first = quoteOnRideRequested(null, 'ride-1', { pickup, dropoff }, tariff, at);
      const { amount, currency, distanceKm } = quoteFare(pickup, dropoff, tariff);
      expect(first?.event).to.deep.equal({
        type: 'fare.calculated',
        payload: { rideId: 'ride-1', fare: { amount, currency }, distanceKm },
      });
      expect(quoteOnRideRequested(first!.ledger, 'ride-1', { pickup, dropoff }, tariff, later)).to.equal(null);
    });

    it('reuses the quote an earlier authorization stored', () => {
      const stored = { ...emptyLedger('ride-1', at), quote: { amount: 999, currency: 'EUR', distanceKm: 6.2 }, quotedAt: at };
      const quoted = quoteOnRideRequested(stored, 'ride-1', { pickup, dropoff }, tariff, later);
      expect(quoted?.event.payload).to.deep.include({ fare: { amount: 999, currency: 'EUR' }, distanceKm: 6.2 });
    });
  });

  describe('the authorization plan', () => {
    it('authorizes the quote when nothing is known of the ride', () => {
      expect(planAuthorization(null, null, { pickup, dropoff }, tariff)).to.deep.equal({
        kind: 'authorize',
        quote: quoteFare(pickup, dropoff, tariff),
      });
    });

    it('charges nothing for a ride whose cancellation came first', () => {
      const cancelled = rememberCancellation(null, 'ride-1', at)!;
      expect(planAuthorization(cancelled, null, { pickup, dropoff }, tariff)).to.deep.equal({ kind: 'cancelled' });
    });

    it('never makes a second payment for a ride', () => {
      const payment = authorized();
      expect(planAuthorization(null, payment, { pickup, dropoff }, tariff).kind).to.equal('already-decided');
    });

    it('records a decline with its reason', () => {
      const ride = aRide();
      const { payment, event } = recordAuthorization(
        null,
        driverAssigned(ride).payload,
        quoteFare(pickup, dropoff, tariff),
        { outcome: 'declined', reason: 'card_declined' },
        at,
      );
      expect(payment.status).to.equal('DECLINED');
      expect(event).to.deep.equal({
        type: 'payment.declined',
        payload: {
          rideId: ride.rideId,
          paymentId: payment.id,
          driverId: ride.driverId,
          driver: aDriver({ id: ride.driverId }),
          reason: 'card_declined',
        },
      });
    });
  });

  describe('cancellation, void and capture', () => {
    it('voids only an authorization, once', () => {
      const payment = authorized();
      expect(planCancellation(payment).kind).to.equal('void');
      const voided = voidPayment(payment, later)!;
      expect(voided.payment.status).to.equal('VOIDED');
      expect(voided.event).to.deep.equal({ type: 'payment.voided', payload: { rideId: payment.rideId, paymentId: payment.id } });
      expect(voidPayment(voided.payment, later)).to.equal(null);
      expect(planCancellation(voided.payment).kind).to.equal('remember');
    });

    it('remembers a cancellation once', () => {
      const first = rememberCancellation(null, 'ride-1', at)!;
      expect(first.cancelledAt).to.equal(at);
      expect(rememberCancellation(first, 'ride-1', later)).to.equal(null);
    });

    it('captures an authorization once, and nothing else', () => {
      const payment = authorized();
      const captured = capturePayment(payment, later, later)!;
      expect(captured.payment.status).to.equal('CAPTURED');
      expect(captured.event.payload).to.deep.equal({
        rideId: payment.rideId,
        paymentId: payment.id,
        riderId: payment.riderId,
        driverId: payment.driverId,
        fare: { amount: payment.amount, currency: payment.currency },
        capturedAt: later,
      });
      expect(capturePayment(captured.payment, later, later)).to.equal(null);
      expect(capturePayment(voidPayment(payment, later)!.payment, later, later)).to.equal(null);
    });
  });
});
