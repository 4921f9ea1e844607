// The notification records as notification-service's delivery and routes ask for them: leased in bulk, outcomes in bulk, listed.
import { readerOf, type ReadSource, type Store, type Transaction } from '@ridehail/shared';
import type { Notification } from '../domain/notification';
import { notificationsCollection } from './collections';

export function byId(source: ReadSource, id: string): Promise<Notification | null> {
  return readerOf(source, notificationsCollection).get(id);
}

/** The stored records among `ids`, by id, in one query. */
export async function byIds(tx: Transaction, ids: string[]): Promise<Map<string, Notification>> {
  const found = await tx.repo(notificationsCollection).find({ id: { $in: ids } });
  return new Map(found.map((n) => [n.id, n]));
}

/**
 * Commits a delivery's leases: the records it took over (from the versions it read, one round trip for all) and the
 * ones it creates already leased (one more). A record moved meanwhile is a ConcurrencyError and the unit of work runs
 * again; one created meanwhile by another delivery is a DuplicateKeyError. Returns them as stored, taken over first.
 */
export async function lease(tx: Transaction, takenOver: Notification[], created: Notification[]): Promise<Notification[]> {
  const repo = tx.repo(notificationsCollection);
  return [...(await repo.updateAll(takenOver)), ...(await repo.insertMany(created))];
}

/** Writes the records' outcomes (sent, failed, an attempt noted) from the versions given, in one round trip. */
export async function recordOutcomes(tx: Transaction, changed: Notification[]): Promise<void> {
  await tx.repo(notificationsCollection).updateAll(changed);
}

/** Newest first (creation time, then id), optionally of one ride. */
export function page(store: Store, query: { rideId?: string; limit: number }): Promise<Notification[]> {
  return store.read(notificationsCollection).find(query.rideId !== undefined ? { rideId: query.rideId } : {}, {
    sort: [
      { field: 'createdAt', direction: -1 },
      { field: 'id', direction: -1 },
    ],
    limit: query.limit,
  });
}
