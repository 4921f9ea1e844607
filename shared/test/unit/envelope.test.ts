import { expect } from 'chai';
import { createEnvelope, parseEnvelope } from '@ridehail/shared';

describe('envelope', () => {
  it('round-trips a typed event through JSON', () => {
    const env = createEnvelope({
      type: 'ride.rated',
      source: 'ride-service',
      correlationId: 'r1',
      payload: { rideId: 'r1', riderId: 'u1', driverId: 'd1', stars: 5 },
    });
    const parsed = parseEnvelope(JSON.stringify(env));
    expect(parsed.ok).to.equal(true);
  });
});
