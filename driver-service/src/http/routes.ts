// driver-service's HTTP API (DESIGN §3, §9): drivers, their positions, and their trip history.
import {
  readSummary,
  decodeCursor,
  NotFoundError,
  parseBody,
  parseParams,
  parseQuery,
  toPage,
  type Filter,
  type RouteDeps,
} from '@ridehail/shared';
import type { Router } from 'express';
import { newDriver, relocate, type Driver } from '../domain/driver';
import { emptySummary, summaryView } from '../domain/summary';
import type { RideAssignment } from '../domain/trip';
import { driverLedger, drivers, driverTripSummaries, rideAssignments } from '../store/collections';
import { timeOrderedId } from './ids';
import { createDriverBody, driverIdParams, driverJson, listDriversQuery, locationBody, tripJson, tripsQuery } from './schemas';

export interface DriverRouteDeps extends RouteDeps {
  currency: string;
}

export function mountDriverRoutes(router: Router, deps: DriverRouteDeps): void {
  const { store } = deps;

  router.post('/drivers', async (req, res) => {
    const body = parseBody(createDriverBody, req.body);
    const now = Date.now();
    const driver = newDriver({ id: timeOrderedId(now), ...body }, new Date(now).toISOString());
    await store.run(async (tx) => {
      await tx.repo(drivers).insert(driver);
      // The summary exists from the start, so handlers only ever update it.
      await tx.repo(driverTripSummaries).insert(emptySummary(driver.id, deps.currency));
    });
    res.status(201).location(`/drivers/${driver.id}`).json(driverJson(driver));
  });

  router.get('/drivers', async (req, res) => {
    const query = parseQuery(listDriversQuery, req.query);
    const filter: Filter<Driver> = query.status ? { status: query.status } : {};
    const found = await store.read(drivers).find(filter, {
      sort: [
        { field: 'createdAt', direction: -1 },
        { field: 'id', direction: -1 },
      ],
      limit: query.limit,
    });
    res.json(found.map(driverJson));
  });

  router.get('/drivers/:id', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    const driver = await store.read(drivers).get(id);
    if (driver === null) throw new NotFoundError('driver', id);
    res.json(driverJson(driver));
  });

  router.put('/drivers/:id/location', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    const to = parseBody(locationBody, req.body);
    // Optimistic: a reservation committed meanwhile makes this retry on the new version, never overwrite it.
    const moved = await store.run(async (tx) => {
      const repo = tx.repo(drivers);
      const driver = await repo.get(id);
      if (driver === null) throw new NotFoundError('driver', id);
      return repo.update(relocate(driver, to, new Date().toISOString()));
    });
    res.json(driverJson(moved));
  });

  router.get('/drivers/:id/trips', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    const query = parseQuery(tripsQuery, req.query);
    const before = query.before === undefined ? undefined : decodeCursor(query.before);
    const driver = await store.read(drivers).get(id);
    if (driver === null) throw new NotFoundError('driver', id);
    const summary = (await readSummary(store, driverLedger(deps.currency), id)) ?? emptySummary(id, deps.currency);
    const filter: Filter<RideAssignment> = before === undefined ? { driverId: id } : { driverId: id, sortKey: { $lt: before } };
    const rows = await store.read(rideAssignments).find(filter, { sort: [{ field: 'sortKey', direction: -1 }], limit: query.limit + 1 });
    const page = toPage(rows, query.limit, (t) => t.sortKey ?? '');
    const body: Record<string, unknown> = { driverId: id, summary: summaryView(summary), trips: page.items.map(tripJson) };
    if (page.next !== undefined) body.next = page.next;
    res.json(body);
  });
}
