// Payment events of version 1 (money flat), still in a queue, an outbox or a parking queue at deploy time, are handled as v2.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { parseEnvelope, type AnyEnvelope } from '@ridehail/shared';
import type { Ride } from '../../../src/domain/ride';
import { aDriver } from '@ridehail/shared/testing';
import { driverAssigned, Harness, nextTime } from '../../factories';

/** A body exactly as payment-service published it before v2, read the way the consumer reads every message. */
function v1(
  type: 'fare.calculated' | 'payment.authorized' | 'payment.captured',
  ride: Ride,
  payload: Record<string, unknown>,
): AnyEnvelope {
  const body = JSON.stringify({
    id: randomUUID(),
    type,
    version: 1,
    occurredAt: nextTime(),
    source: 'payment-service',
    correlationId: ride.id,
    causationId: randomUUID(),
    payload: { rideId: ride.id, ...payload },
  });
  const parsed = parseEnvelope(body);
  if (!parsed.ok) throw new Error(`v1 ${type} refused: ${parsed.reason}`);
  return parsed.envelope;
}

describe('ride-service on v1 payment events', () => {
  let h: Harness;
  let ride: Ride;

  beforeEach(async () => {
    h = await new Harness().init();
    ride = await h.seedRide();
  });

  it('a v1 fare.calculated still records the fare', async () => {
    await h.deliver(v1('fare.calculated', ride, { amount: 990, currency: 'EUR', distanceKm: 3.9 }));
    expect((await h.ride(ride.id)).fare).to.deep.equal({ amount: 990, currency: 'EUR' });
  });

  it('a v1 payment.authorized still confirms the ride, and ride.confirmed carries its fare', async () => {
    const driver = aDriver();
    await h.deliver(driverAssigned(ride, driver));

    await h.deliver(v1('payment.authorized', ride, { paymentId: `pay-${ride.id}`, amount: 1500, currency: 'EUR', driver }));

    expect((await h.ride(ride.id)).status).to.equal('CONFIRMED');
    const [confirmed] = await h.emitted();
    expect(confirmed?.type).to.equal('ride.confirmed');
    expect(confirmed?.payload).to.deep.include({ rideId: ride.id, driver, fare: { amount: 1500, currency: 'EUR' } });
  });

  it("a v1 payment.captured still records what was paid and adds it to the rider's spent", async () => {
    const capture = { paymentId: `pay-${ride.id}`, riderId: ride.riderId, driverId: 'driver-1', amount: 1800, currency: 'EUR' };

    await h.deliver(v1('payment.captured', ride, { ...capture, capturedAt: nextTime() }));

    expect((await h.ride(ride.id)).paid).to.include({ amount: 1800, currency: 'EUR' });
    expect((await h.summary(ride.riderId))?.spent).to.deep.equal({ amount: 1800, currency: 'EUR' });
  });
});
