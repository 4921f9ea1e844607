// Idempotency keys: same body replays, another body conflicts, an expired key binds nothing.
import { expect } from 'chai';
import { canonicalJson, decideKey, IDEMPOTENCY_TTL_HOURS, newIdempotencyRecord } from '../../../src/domain/idempotency';

describe('idempotency keys', () => {
  const now = new Date('2030-01-01T00:00:00.000Z');
  const record = newIdempotencyRecord({ riderId: 'rider-1', key: 'k-1', bodyHash: 'h1', rideId: 'ride-1', now });

  it('is scoped to its rider and kept for at least 24 hours', () => {
    expect(record.id).to.equal('rider-1:k-1');
    expect(IDEMPOTENCY_TTL_HOURS).to.be.at.least(24);
    expect(record.expiresAt.getTime() - now.getTime()).to.equal(IDEMPOTENCY_TTL_HOURS * 3600 * 1000);
  });

  it('lets an unused key make a new ride', () => {
    expect(decideKey(null, 'h1', now)).to.deep.equal({ kind: 'new' });
  });

  it('replays the same ride for the same body', () => {
    expect(decideKey(record, 'h1', new Date(now.getTime() + 23 * 3600 * 1000))).to.deep.equal({ kind: 'replay', rideId: 'ride-1' });
  });

  it('conflicts for a different body', () => {
    expect(decideKey(record, 'h2', now)).to.deep.equal({ kind: 'conflict', rideId: 'ride-1' });
  });

  it('treats an expired record as unused', () => {
    expect(decideKey(record, 'h2', record.expiresAt)).to.deep.equal({ kind: 'new' });
  });

  it('hashes bodies by content, not key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 4, e: 5 }] } })).to.equal(
      canonicalJson({ a: { c: [3, { e: 5, f: 4 }], d: 2 }, b: 1 }),
    );
    expect(canonicalJson({ a: 1 })).to.not.equal(canonicalJson({ a: 2 }));
  });
});
