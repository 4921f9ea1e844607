// A v1 payment.captured (money flat), still in a queue or a parking queue at deploy time, still counts as the driver's earnings.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { parseEnvelope } from '@ridehail/shared';
import { totalsOf } from '../../../src/domain/summary';
import { DriverHarness, ref, rideCompleted, rideConfirmed, rideRequested } from '../../factories';

describe('driver-service on a v1 payment.captured', () => {
  it("records the trip's earned amount and adds it to the driver's earnings", async () => {
    const h = await DriverHarness.create();
    const driver = await h.seedDriver();
    const ride = rideRequested();
    const rideId = ride.payload.rideId;
    await h.deliver(ride);
    await h.deliver(rideConfirmed(rideId, ref(driver)));
    await h.deliver(rideCompleted(rideId, ref(driver)));
    // The body exactly as payment-service published it before v2, read the way the consumer reads every message.
    const parsed = parseEnvelope(
      JSON.stringify({
        id: randomUUID(),
        type: 'payment.captured',
        version: 1,
        occurredAt: new Date().toISOString(),
        source: 'payment-service',
        correlationId: rideId,
        payload: {
          rideId,
          paymentId: `pay-${rideId}`,
          riderId: 'rider-1',
          driverId: driver.id,
          amount: 1250,
          currency: 'EUR',
          capturedAt: new Date().toISOString(),
        },
      }),
    );
    if (!parsed.ok) throw new Error(`v1 payment.captured refused: ${parsed.reason}`);

    await h.deliver(parsed.envelope);

    expect((await h.trip(rideId))?.earned).to.deep.equal({ amount: 1250, currency: 'EUR' });
    expect(totalsOf((await h.summary(driver.id))!)).to.include({ completed: 1, earnings: 1250 });
  });
});
