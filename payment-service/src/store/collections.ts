// payment-service's collections in the `payments` database, with the indexes its queries use.
import { defineCollection } from '@ridehail/shared';
import type { Payment, RideLedger } from '../domain/payment';

/** Authorizations only (the quote lives on the ledger); `rideId` is unique on top of the derived id. */
export const paymentsCollection = defineCollection<Payment>('payments', [
  { fields: { rideId: 1 }, unique: true, name: 'payments_ride_unique' },
  { fields: { createdAt: -1, id: -1 }, name: 'payments_newest_first' },
]);

/** One document per ride: its quote and a remembered cancellation. */
export const ledgersCollection = defineCollection<RideLedger>('ride_ledgers');

export const collections = [paymentsCollection, ledgersCollection];
