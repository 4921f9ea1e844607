import { expect } from 'chai';
import { aDriver, republished } from '@ridehail/shared/testing';
import { quoteFare } from '../../src/domain/fare';
import { paymentIdFor, type Payment } from '../../src/domain/payment';
import { TransientGatewayError, type AuthorizeRequest, type PaymentGateway } from '../../src/gateway/gateway';
import { SimulatedGateway } from '../../src/gateway/simulator';
import { paymentsCollection } from '../../src/store/collections';
import {
  aRide,
  driverAssigned,
  dropoff,
  harness,
  pickup,
  rideCancelled,
  rideCompleted,
  rideRequested,
  tariff,
  type PaymentHarness,
  type Ride,
} from '../factories';

const expectedQuote = quoteFare(pickup, dropoff, tariff);

async function paymentOf(h: PaymentHarness, ride: Ride): Promise<Payment | null> {
  return h.store.read(paymentsCollection).get(paymentIdFor(ride.rideId));
}

async function paymentsOf(h: PaymentHarness, ride: Ride): Promise<Payment[]> {
  return h.store.read(paymentsCollection).find({ rideId: ride.rideId });
}

describe('payment-service on ride.requested', () => {
  it('emits fare.calculated with the quote, caused by the request', async () => {
    const h = await harness();
    const ride = aRide();
    const requested = rideRequested(ride);
    expect(await h.deliver(requested)).to.equal('processed');
    const [fare, ...rest] = await h.events();
    expect(rest).to.have.length(0);
    expect(fare?.type).to.equal('fare.calculated');
    expect(fare?.payload).to.deep.equal({
      rideId: ride.rideId,
      fare: { amount: expectedQuote.amount, currency: expectedQuote.currency },
      distanceKm: expectedQuote.distanceKm,
    });
    expect(fare?.causationId).to.equal(requested.id);
    expect(fare?.correlationId).to.equal(ride.rideId);
  });

  it('acknowledges a redelivered request without emitting again', async () => {
    const h = await harness();
    const requested = rideRequested(aRide());
    await h.deliver(requested);
    expect(await h.deliver(requested)).to.equal('duplicate');
    expect(await h.eventsOf('fare.calculated')).to.have.length(1);
  });

  it('quotes once per ride even when the request comes again under a new message id', async () => {
    const h = await harness();
    const requested = rideRequested(aRide());
    await h.deliver(requested);
    expect(await h.deliver(republished(requested))).to.equal('processed');
    expect(await h.eventsOf('fare.calculated')).to.have.length(1);
  });

  it('is not a payment: nothing is listed before a driver is assigned', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(rideRequested(ride));
    expect(await paymentsOf(h, ride)).to.deep.equal([]);
  });
});

describe('payment-service on driver.assigned', () => {
  it('authorizes exactly the quoted amount when the quote came first', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(rideRequested(ride));
    const assigned = driverAssigned(ride);
    await h.deliver(assigned);
    const [authorizedEvent] = await h.eventsOf('payment.authorized');
    const payment = await paymentOf(h, ride);
    expect(payment).to.deep.include({
      status: 'AUTHORIZED',
      amount: expectedQuote.amount,
      currency: 'EUR',
      rideId: ride.rideId,
      riderId: ride.riderId,
      driverId: ride.driverId,
    });
    expect(authorizedEvent?.payload).to.deep.include({
      rideId: ride.rideId,
      paymentId: payment?.id,
      fare: { amount: expectedQuote.amount, currency: 'EUR' },
    });
    expect(authorizedEvent?.payload['driver']).to.deep.include({ id: ride.driverId });
    expect(authorizedEvent?.causationId).to.equal(assigned.id);
  });

  it('authorizes the same amount when it arrives before the request, and the late quote agrees', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(driverAssigned(ride));
    await h.deliver(rideRequested(ride));
    const [authorized] = await h.eventsOf('payment.authorized');
    const [fare] = await h.eventsOf('fare.calculated');
    expect(authorized?.payload['fare']).to.deep.equal({ amount: expectedQuote.amount, currency: 'EUR' });
    expect(fare?.payload).to.deep.equal({
      rideId: ride.rideId,
      fare: { amount: expectedQuote.amount, currency: expectedQuote.currency },
      distanceKm: expectedQuote.distanceKm,
    });
  });

  it('declines pm_card_declined with the driver and a reason, and records the payment DECLINED', async () => {
    const h = await harness();
    const ride = aRide({ paymentMethod: 'pm_card_declined' });
    await h.deliver(driverAssigned(ride));
    const payment = await paymentOf(h, ride);
    expect(payment?.status).to.equal('DECLINED');
    const events = await h.events();
    expect(events.map((e) => e.type)).to.deep.equal(['payment.declined']);
    expect(events[0]?.payload).to.deep.equal({
      rideId: ride.rideId,
      paymentId: payment?.id,
      driverId: ride.driverId,
      driver: aDriver({ id: ride.driverId }),
      reason: 'card_declined',
    });
  });

  it('lets pm_card_flaky fail transiently on the first two attempts, then authorizes on the third', async () => {
    const h = await harness();
    const ride = aRide({ paymentMethod: 'pm_card_flaky' });
    const assigned = driverAssigned(ride);
    for (const attempt of [1, 2]) {
      let thrown: unknown;
      await h.deliver(assigned, attempt).catch((err: unknown) => (thrown = err));
      expect(thrown, `attempt ${attempt}`).to.be.instanceOf(TransientGatewayError);
      expect(await paymentOf(h, ride)).to.equal(null);
      expect(await h.events()).to.deep.equal([]);
    }
    expect(await h.deliver(assigned, 3)).to.equal('processed');
    expect((await paymentOf(h, ride))?.status).to.equal('AUTHORIZED');
    expect(await h.eventsOf('payment.authorized')).to.have.length(1);
  });

  it('makes one payment per ride, whether the message is redelivered or repeated under a new id', async () => {
    const h = await harness();
    const ride = aRide();
    const assigned = driverAssigned(ride);
    await h.deliver(assigned);
    expect(await h.deliver(assigned)).to.equal('duplicate');
    expect(await h.deliver(republished(assigned))).to.equal('processed');
    expect(await paymentsOf(h, ride)).to.have.length(1);
    expect(await h.eventsOf('payment.authorized')).to.have.length(1);
  });

  it('authorizes once when the same fact arrives twice at the same time', async () => {
    const h = await harness();
    const ride = aRide();
    const assigned = driverAssigned(ride);
    await Promise.all([h.deliver(assigned), h.deliver(republished(assigned))]);
    expect(await paymentsOf(h, ride)).to.have.length(1);
    expect(await h.eventsOf('payment.authorized')).to.have.length(1);
  });
});

describe('payment-service on ride.cancelled', () => {
  it('voids an authorized payment and emits payment.voided', async () => {
    const gateway = new SimulatedGateway();
    const h = await harness(gateway);
    const ride = aRide();
    await h.deliver(driverAssigned(ride));
    const cancelled = rideCancelled(ride);
    await h.deliver(cancelled);
    const payment = await paymentOf(h, ride);
    expect(payment?.status).to.equal('VOIDED');
    const [voided] = await h.eventsOf('payment.voided');
    expect(voided?.payload).to.deep.equal({ rideId: ride.rideId, paymentId: payment?.id });
    expect(voided?.causationId).to.equal(cancelled.id);
    expect(gateway.statusOf(ride.rideId)).to.equal('voided');
  });

  it('voids once, however often the cancellation arrives', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(driverAssigned(ride));
    const cancelled = rideCancelled(ride);
    await h.deliver(cancelled);
    expect(await h.deliver(cancelled)).to.equal('duplicate');
    await h.deliver(republished(cancelled));
    expect(await h.eventsOf('payment.voided')).to.have.length(1);
  });

  it('remembers a cancellation that arrives before driver.assigned, so the late assignment charges nothing', async () => {
    const gateway = new SimulatedGateway();
    const h = await harness(gateway);
    const ride = aRide();
    await h.deliver(rideCancelled(ride, false));
    expect(await h.events()).to.deep.equal([]);
    await h.deliver(driverAssigned(ride));
    expect(await paymentOf(h, ride)).to.equal(null);
    expect(await h.events()).to.deep.equal([]);
    expect(gateway.calls.filter((c) => c.op === 'authorize')).to.deep.equal([]);
  });

  it('leaves a declined payment as it is', async () => {
    const h = await harness();
    const ride = aRide({ paymentMethod: 'pm_card_declined' });
    await h.deliver(driverAssigned(ride));
    await h.deliver(rideCancelled(ride));
    expect((await paymentOf(h, ride))?.status).to.equal('DECLINED');
    expect(await h.eventsOf('payment.voided')).to.deep.equal([]);
  });

  it('voids at once an authorization the gateway gave while the cancellation was being committed', async () => {
    const simulator = new SimulatedGateway();
    const ride = aRide();
    const late: { harness?: PaymentHarness } = {};
    // The cancellation commits while the authorization is at the gateway: its commit must find the ride cancelled.
    const racing: PaymentGateway = {
      authorize: async (request: AuthorizeRequest) => {
        const result = await simulator.authorize(request);
        await late.harness!.deliver(rideCancelled(ride));
        return result;
      },
      void: (ref) => simulator.void(ref),
      capture: (ref) => simulator.capture(ref),
    };
    const h = (late.harness = await harness(racing));
    await h.deliver(driverAssigned(ride));
    expect(await paymentOf(h, ride)).to.equal(null);
    expect(await h.eventsOf('payment.authorized')).to.deep.equal([]);
    expect(simulator.statusOf(ride.rideId)).to.equal('voided');
  });
});

describe('payment-service on ride.completed', () => {
  it('captures the authorization and emits payment.captured with rider, driver and amount', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(rideRequested(ride));
    await h.deliver(driverAssigned(ride));
    const completed = rideCompleted(ride);
    await h.deliver(completed);
    const payment = await paymentOf(h, ride);
    expect(payment?.status).to.equal('CAPTURED');
    const [captured] = await h.eventsOf('payment.captured');
    expect(captured?.payload).to.deep.equal({
      rideId: ride.rideId,
      paymentId: payment?.id,
      riderId: ride.riderId,
      driverId: ride.driverId,
      fare: { amount: expectedQuote.amount, currency: 'EUR' },
      capturedAt: payment?.capturedAt,
    });
    expect(captured?.causationId).to.equal(completed.id);
  });

  it('captures once, whether the completion is redelivered or repeated under a new id', async () => {
    const h = await harness();
    const ride = aRide();
    await h.deliver(driverAssigned(ride));
    const completed = rideCompleted(ride);
    await h.deliver(completed);
    expect(await h.deliver(completed)).to.equal('duplicate');
    expect(await h.deliver(republished(completed))).to.equal('processed');
    expect(await h.eventsOf('payment.captured')).to.have.length(1);
  });

  it('captures nothing for a ride without an authorization', async () => {
    const h = await harness();
    const ride = aRide({ paymentMethod: 'pm_card_declined' });
    await h.deliver(driverAssigned(ride));
    await h.deliver(rideCompleted(ride));
    expect((await paymentOf(h, ride))?.status).to.equal('DECLINED');
    expect(await h.eventsOf('payment.captured')).to.deep.equal([]);
  });
});
