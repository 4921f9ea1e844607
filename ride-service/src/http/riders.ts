// Rider routes: parse, call, respond — create, read, and the rider's trip history view (DESIGN §9).
import { decodeCursor, NotFoundError, parseBody, parseParams, parseQuery, toPage, tripPageQuerySchema } from '@ridehail/shared';
import type { Router } from 'express';
import { registerRider } from '../application/registerRider';
import { emptySummary, totalsOf, tripOf } from '../domain/tripHistory';
import * as riders from '../store/riders';
import * as rides from '../store/rides';
import type { RideRouteDeps } from './deps';
import { createRiderSchema, idParamsSchema } from './schemas';
import { riderView } from './views';

export function mountRiderRoutes(router: Router, deps: RideRouteDeps): void {
  const { store } = deps;

  router.post('/riders', async (req, res) => {
    const rider = await registerRider(deps, parseBody(createRiderSchema, req.body));
    res
      .status(201)
      .location(`/riders/${encodeURIComponent(rider.id)}`)
      .json(riderView(rider));
  });

  router.get('/riders/:id', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const rider = await riders.byId(store, id);
    if (rider === null) throw new NotFoundError('rider', id);
    res.json(riderView(rider));
  });

  router.get('/riders/:id/trips', async (req, res) => {
    const { id } = parseParams(idParamsSchema, req.params);
    const query = parseQuery(tripPageQuerySchema, req.query);
    const before = query.before === undefined ? undefined : decodeCursor(query.before);
    // One document read answers the totals; only a rider without a summary costs a second read (to tell 404 apart).
    let summary = await riders.summary(store, id, deps.currency);
    if (summary === null) {
      if ((await riders.byId(store, id)) === null) throw new NotFoundError('rider', id);
      summary = emptySummary(id, deps.currency);
    }
    const rows = await rides.page(store, { riderId: id, olderThan: before, limit: query.limit + 1 });
    const page = toPage(rows, query.limit, (ride) => ride.sortKey);
    res.json({
      riderId: id,
      summary: totalsOf(summary),
      trips: page.items.map(tripOf),
      ...(page.next !== undefined ? { next: page.next } : {}),
    });
  });
}
