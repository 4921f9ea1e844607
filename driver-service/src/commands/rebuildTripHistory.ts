// driver-service's own command: recomputes every driver summary from the trips, reports each drift, repairs it (`--dry-run` reports only).
import { runRebuildMain } from '@ridehail/shared';
import { collections, driverLedger } from '../store/collections';
import { rebuildDriverTripHistory } from '../tripHistory/rebuild';

runRebuildMain({
  service: 'driver-service',
  person: 'driver',
  database: 'drivers',
  collections: (currency) => [...collections, driverLedger(currency).entries],
  rebuild: rebuildDriverTripHistory,
});
