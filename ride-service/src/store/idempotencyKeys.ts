// The Idempotency-Key records of POST /rides as the wrapper asks for them: one by its scoped id, and saved over what was read.
import { readerOf, type ReadSource, type Transaction } from '@ridehail/shared';
import type { IdempotencyRecord } from '../domain/idempotency';
import { idempotencyKeys } from './collections';

export function byId(source: ReadSource, id: string): Promise<IdempotencyRecord | null> {
  return readerOf(source, idempotencyKeys).get(id);
}

/** Inserts `next` when nothing was stored (a taken id is a DuplicateKeyError), else replaces `before` at its version. */
export async function save(tx: Transaction, before: IdempotencyRecord | null, next: IdempotencyRecord): Promise<void> {
  const keys = tx.repo(idempotencyKeys);
  if (before === null) await keys.insert(next);
  else await keys.update({ ...next, version: before.version });
}
