// ride-service's own command: recomputes every rider summary from the rides, reports each drift, repairs it (`--dry-run` reports only).
import { runRebuildMain } from '@ridehail/shared';
import { rideCollections, riderLedger } from '../store/collections';
import { rebuildRiderTripHistory } from '../tripHistory/rebuild';

runRebuildMain({
  service: 'ride-service',
  person: 'rider',
  database: 'rides',
  collections: (currency) => [...rideCollections, riderLedger(currency).entries],
  rebuild: rebuildRiderTripHistory,
});
