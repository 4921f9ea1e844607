// Idempotency keys of POST /rides: a key scoped to its rider answers with the ride it first made, and only for the same body.
export const IDEMPOTENCY_TTL_HOURS = 48;

export interface IdempotencyRecord {
  /** `${riderId}:${key}`: the scope makes the id. */
  id: string;
  version: number;
  riderId: string;
  key: string;
  bodyHash: string;
  rideId: string;
  createdAt: string;
  /** A Date, not an ISO string: MongoDB's TTL index removes the record after this instant. */
  expiresAt: Date;
}

export function idempotencyId(riderId: string, key: string): string {
  return `${riderId}:${key}`;
}

export type KeyDecision = { kind: 'new' } | { kind: 'replay'; rideId: string } | { kind: 'conflict'; rideId: string };

/** What a request carrying a key gets, given the record stored for it (an expired record no longer binds the key). */
export function decideKey(record: IdempotencyRecord | null, bodyHash: string, now: Date): KeyDecision {
  if (record === null || record.expiresAt.getTime() <= now.getTime()) return { kind: 'new' };
  return record.bodyHash === bodyHash ? { kind: 'replay', rideId: record.rideId } : { kind: 'conflict', rideId: record.rideId };
}

export function newIdempotencyRecord(input: {
  riderId: string;
  key: string;
  bodyHash: string;
  rideId: string;
  now: Date;
}): IdempotencyRecord {
  return {
    id: idempotencyId(input.riderId, input.key),
    version: 1,
    riderId: input.riderId,
    key: input.key,
    bodyHash: input.bodyHash,
    rideId: input.rideId,
    createdAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + IDEMPOTENCY_TTL_HOURS * 3600 * 1000),
  };
}

/** JSON with object keys sorted at every level: equal bodies give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
