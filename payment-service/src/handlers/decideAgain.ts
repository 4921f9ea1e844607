// The shape of a handler whose effect is gateway I/O: plan from a read, call the gateway, then commit only if the plan still holds.
import { DuplicateKeyError } from '@ridehail/shared';

/** Thrown inside the commit when the state moved since the plan was made: plan again with fresh reads. */
export class StalePlanError extends Error {
  constructor(what: string) {
    super(`state changed while calling the gateway: ${what}`);
    this.name = 'StalePlanError';
  }
}

/**
 * Runs `round` (read → gateway → commit) until it commits without finding its plan stale. A concurrent first insert of
 * the same document counts as stale too. After `maxRounds` the error leaves the handler, so the message is retried.
 */
export async function untilPlanHolds<R>(round: () => Promise<R>, maxRounds = 5): Promise<R> {
  for (let i = 1; ; i++) {
    try {
      return await round();
    } catch (err) {
      const stale = err instanceof StalePlanError || err instanceof DuplicateKeyError;
      if (!stale || i >= maxRounds) throw err;
    }
  }
}
