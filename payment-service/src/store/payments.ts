// The payments (authorizations) as payment-service's handlers and routes ask for them: one by id, recorded, changed, listed.
import { readerOf, type ReadSource, type Store, type Transaction } from '@ridehail/shared';
import type { Payment } from '../domain/payment';
import { paymentsCollection } from './collections';

export function byId(source: ReadSource, paymentId: string): Promise<Payment | null> {
  return readerOf(source, paymentsCollection).get(paymentId);
}

/** The ride's one payment: its derived id and the unique ride index make a second one a DuplicateKeyError. */
export async function record(tx: Transaction, payment: Payment): Promise<void> {
  await tx.repo(paymentsCollection).insert(payment);
}

/** Replaces the payment at the version it was read with (ConcurrencyError when it moved meanwhile). */
export async function save(tx: Transaction, payment: Payment): Promise<void> {
  await tx.repo(paymentsCollection).update(payment);
}

/** Newest first (creation time, then id), optionally of one ride. */
export function page(store: Store, query: { rideId?: string; limit: number }): Promise<Payment[]> {
  return store.read(paymentsCollection).find(query.rideId !== undefined ? { rideId: query.rideId } : {}, {
    sort: [
      { field: 'createdAt', direction: -1 },
      { field: 'id', direction: -1 },
    ],
    limit: query.limit,
  });
}
