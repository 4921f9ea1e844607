import { expect } from 'chai';
import type { AnyEnvelope } from '@ridehail/shared';
import { republished } from '@ridehail/shared/testing';
import { DriverHarness, north, rideRequested } from '../../factories';

/** Delivers every message at once; a message whose unit of work lost every race is redelivered, as the broker would. */
async function deliverConcurrently(h: DriverHarness, messages: AnyEnvelope[]): Promise<void> {
  let pending = messages;
  for (let round = 0; pending.length > 0; round++) {
    if (round > 20) throw new Error('messages still failing after 20 redeliveries');
    const results = await Promise.allSettled(pending.map((m) => h.deliver(m)));
    pending = pending.filter((_m, i) => results[i]?.status === 'rejected');
  }
}

describe('driver-service reserving under concurrency', () => {
  it('reserves each driver at most once when more rides than drivers are requested at the same time', async () => {
    const h = await DriverHarness.create();
    const drivers = await Promise.all([0.5, 1, 1.5].map((km) => h.seedDriver({ location: north(km) })));
    const rides = Array.from({ length: 8 }, () => rideRequested());

    await deliverConcurrently(h, rides);

    const assigned = await h.eventsOf('driver.assigned');
    const unavailable = await h.eventsOf('driver.unavailable');
    expect(assigned).to.have.length(3);
    expect(unavailable).to.have.length(5);
    expect(new Set(assigned.map((e) => e.payload.driver.id)).size).to.equal(3, 'no driver assigned twice');
    expect(new Set([...assigned, ...unavailable].map((e) => e.payload.rideId)).size).to.equal(8, 'one decision per ride');
    for (const d of drivers) {
      const now = await h.driver(d.id);
      expect(now.status).to.equal('RESERVED');
      expect(assigned.filter((e) => e.payload.rideId === now.currentRideId)).to.have.length(1);
    }
  });

  it('reserves one driver when the same ride is requested concurrently under several message ids', async () => {
    const h = await DriverHarness.create();
    await Promise.all([0.5, 1, 1.5].map((km) => h.seedDriver({ location: north(km) })));
    const ride = rideRequested();

    await deliverConcurrently(h, [ride, republished(ride), republished(ride), republished(ride)]);

    expect((await h.events()).map((e) => e.type)).to.deep.equal(['driver.assigned']);
    const reserved = (await Promise.all((await h.eventsOf('driver.assigned')).map((e) => h.driver(e.payload.driver.id)))).map(
      (d) => d.currentRideId,
    );
    expect(reserved).to.deep.equal([ride.payload.rideId]);
  });
});
