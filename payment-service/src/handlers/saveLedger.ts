// Writes a ledger document: insert when it was new in this unit of work, optimistic update otherwise.
import type { Transaction } from '@ridehail/shared';
import type { RideLedger } from '../domain/payment';
import { ledgersCollection } from '../store/collections';

/** `existed` says whether the ledger was loaded from the store; the domain returns the same version it was given. */
export async function saveLedger(tx: Transaction, ledger: RideLedger, existed: boolean): Promise<RideLedger> {
  const repo = tx.repo(ledgersCollection);
  return existed ? repo.update(ledger) : repo.insert(ledger);
}
