// driver-service's HTTP API (DESIGN §3, §9): parse, call, respond — drivers, their positions, and their trip history.
import { decodeCursor, NotFoundError, parseBody, parseParams, parseQuery, toPage, type RouteDeps } from '@ridehail/shared';
import type { Router } from 'express';
import { moveDriver } from '../application/moveDriver';
import { registerDriver } from '../application/registerDriver';
import { emptySummary, summaryView } from '../domain/summary';
import * as drivers from '../store/drivers';
import * as trips from '../store/trips';
import { createDriverBody, driverIdParams, driverJson, listDriversQuery, locationBody, tripJson, tripsQuery } from './schemas';

export interface DriverRouteDeps extends RouteDeps {
  currency: string;
}

export function mountDriverRoutes(router: Router, deps: DriverRouteDeps): void {
  const { store } = deps;

  router.post('/drivers', async (req, res) => {
    const driver = await registerDriver(deps, parseBody(createDriverBody, req.body));
    res.status(201).location(`/drivers/${driver.id}`).json(driverJson(driver));
  });

  router.get('/drivers', async (req, res) => {
    const query = parseQuery(listDriversQuery, req.query);
    const found = await drivers.page(store, query);
    res.json(found.map(driverJson));
  });

  router.get('/drivers/:id', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    const driver = await drivers.byId(store, id);
    if (driver === null) throw new NotFoundError('driver', id);
    res.json(driverJson(driver));
  });

  router.put('/drivers/:id/location', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    res.json(driverJson(await moveDriver(deps, id, parseBody(locationBody, req.body))));
  });

  router.get('/drivers/:id/trips', async (req, res) => {
    const { id } = parseParams(driverIdParams, req.params);
    const query = parseQuery(tripsQuery, req.query);
    const before = query.before === undefined ? undefined : decodeCursor(query.before);
    const driver = await drivers.byId(store, id);
    if (driver === null) throw new NotFoundError('driver', id);
    const summary = (await drivers.summary(store, id, deps.currency)) ?? emptySummary(id, deps.currency);
    const rows = await trips.page(store, { driverId: id, olderThan: before, limit: query.limit + 1 });
    const page = toPage(rows, query.limit, (t) => t.sortKey ?? '');
    const body: Record<string, unknown> = { driverId: id, summary: summaryView(summary), trips: page.items.map(tripJson) };
    if (page.next !== undefined) body.next = page.next;
    res.json(body);
  });
}
