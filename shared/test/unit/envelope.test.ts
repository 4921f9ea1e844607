// The envelope on the wire: typed events round-trip, older payload versions are upcast, unknown ones are refused with a reason.
import { expect } from 'chai';
import { createEnvelope, eventCatalogue, outboxRecordOf, parseEnvelope, toAmqpMessage, type ParseResult } from '@ridehail/shared';

const driver = { id: 'd1', name: 'Dan Driver', email: 'dan@example.com' };

/** A message body exactly as a producer of `version` wrote it, before or after the current build. */
function published(type: string, version: number, payload: Record<string, unknown>): string {
  return JSON.stringify({
    id: `m-${type}-v${version}`,
    type,
    version,
    occurredAt: '2030-01-01T10:00:00.000Z',
    source: 'payment-service',
    correlationId: 'r1',
    causationId: 'm-cause',
    payload,
  });
}

function accepted(result: ParseResult) {
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.envelope;
}

function refusal(result: ParseResult): string {
  if (result.ok) throw new Error(`accepted ${result.envelope.type} v${result.envelope.version}`);
  return result.reason;
}

describe('envelope', () => {
  it('round-trips a typed event through JSON', () => {
    const env = createEnvelope({
      type: 'ride.rated',
      source: 'ride-service',
      correlationId: 'r1',
      payload: { rideId: 'r1', riderId: 'u1', driverId: 'd1', stars: 5 },
    });
    expect(accepted(parseEnvelope(JSON.stringify(env)))).to.deep.equal(env);
  });

  describe('event versions', () => {
    it('publishes the payment events at version 2, with money as one `fare` object', () => {
      const env = createEnvelope({
        type: 'payment.authorized',
        source: 'payment-service',
        correlationId: 'r1',
        payload: { rideId: 'r1', paymentId: 'p1', fare: { amount: 1500, currency: 'EUR' }, driver },
      });
      expect(env.version).to.equal(2);
      expect(eventCatalogue['fare.calculated'].version).to.equal(2);
      expect(eventCatalogue['payment.captured'].version).to.equal(2);
    });

    it('upcasts a v1 fare.calculated (flat amount and currency) to v2', () => {
      const env = accepted(parseEnvelope(published('fare.calculated', 1, { rideId: 'r1', amount: 990, currency: 'EUR', distanceKm: 3.9 })));
      expect(env).to.deep.include({ type: 'fare.calculated', version: 2, id: 'm-fare.calculated-v1', causationId: 'm-cause' });
      expect(env.payload).to.deep.equal({ rideId: 'r1', fare: { amount: 990, currency: 'EUR' }, distanceKm: 3.9 });
    });

    it('upcasts a v1 payment.authorized to v2', () => {
      const env = accepted(
        parseEnvelope(published('payment.authorized', 1, { rideId: 'r1', paymentId: 'p1', amount: 1500, currency: 'EUR', driver })),
      );
      expect(env.version).to.equal(2);
      expect(env.payload).to.deep.equal({ rideId: 'r1', paymentId: 'p1', fare: { amount: 1500, currency: 'EUR' }, driver });
    });

    it('upcasts a v1 payment.captured to v2', () => {
      const v1 = {
        rideId: 'r1',
        paymentId: 'p1',
        riderId: 'u1',
        driverId: 'd1',
        amount: 1500,
        currency: 'EUR',
        capturedAt: '2030-01-01T10:00:00.000Z',
      };
      const env = accepted(parseEnvelope(published('payment.captured', 1, v1)));
      expect(env.payload).to.deep.equal({
        rideId: 'r1',
        paymentId: 'p1',
        riderId: 'u1',
        driverId: 'd1',
        fare: { amount: 1500, currency: 'EUR' },
        capturedAt: '2030-01-01T10:00:00.000Z',
      });
    });

    it('upcasts a v1 row left in an outbox at deploy time, which the relay publishes as it was written', () => {
      const v2 = createEnvelope({
        type: 'fare.calculated',
        source: 'payment-service',
        correlationId: 'r1',
        payload: { rideId: 'r1', fare: { amount: 990, currency: 'EUR' }, distanceKm: 3.9 },
      });
      const row = outboxRecordOf(v2);
      const v1Row = {
        ...row,
        headers: { ...row.headers, version: 1 },
        payload: { rideId: 'r1', amount: 990, currency: 'EUR', distanceKm: 3.9 },
      };

      const message = toAmqpMessage(v1Row, 't.');

      expect(message.options.headers).to.include({ 'x-event-version': 1 });
      const env = accepted(parseEnvelope(message.content));
      expect(env).to.deep.include({ id: v2.id, version: 2 });
      expect(env.payload).to.deep.equal(v2.payload);
    });

    it('reads a v2 payload as it is', () => {
      const v2 = { rideId: 'r1', fare: { amount: 990, currency: 'EUR' }, distanceKm: 3.9 };
      expect(accepted(parseEnvelope(published('fare.calculated', 2, v2))).payload).to.deep.equal(v2);
    });

    it('refuses a payload that does not match the version it claims, naming that version', () => {
      const v2Shape = { rideId: 'r1', fare: { amount: 990, currency: 'EUR' }, distanceKm: 3.9 };
      expect(refusal(parseEnvelope(published('fare.calculated', 1, v2Shape)))).to.match(/^invalid fare\.calculated v1 payload: amount: /);
      const v1Shape = { rideId: 'r1', amount: 990, currency: 'EUR', distanceKm: 3.9 };
      expect(refusal(parseEnvelope(published('fare.calculated', 2, v1Shape)))).to.match(/^invalid fare\.calculated payload: fare: /);
    });

    it('refuses a version this build does not read, saying which it does', () => {
      const future = { rideId: 'r1', paymentId: 'p1', fare: { amount: 1, currency: 'EUR' }, driver };
      expect(refusal(parseEnvelope(published('payment.authorized', 3, future)))).to.equal(
        'unsupported version 3 of payment.authorized (this build reads versions 1, 2)',
      );
      expect(refusal(parseEnvelope(published('ride.rated', 2, { rideId: 'r1', riderId: 'u1', driverId: 'd1', stars: 5 })))).to.equal(
        'unsupported version 2 of ride.rated (this build reads version 1)',
      );
    });
  });
});
