// The ride ledgers (a ride's quote, gateway lease and remembered cancellation) as payment-service's handlers ask for them.
import { readerOf, type ReadSource, type Transaction } from '@ridehail/shared';
import type { RideLedger } from '../domain/payment';
import { ledgersCollection } from './collections';

export function ofRide(source: ReadSource, rideId: string): Promise<RideLedger | null> {
  return readerOf(source, ledgersCollection).get(rideId);
}

/**
 * Writes the ledger the domain returned: inserted when none was stored (`existed` false; a concurrent first insert is a
 * DuplicateKeyError), else over the version it was read with (the domain keeps it), so a change meanwhile is a
 * ConcurrencyError. Quoting the fare, leasing the gateway call and remembering a cancellation all write through here.
 */
export function save(tx: Transaction, ledger: RideLedger, existed: boolean): Promise<RideLedger> {
  const repo = tx.repo(ledgersCollection);
  return existed ? repo.update(ledger) : repo.insert(ledger);
}
