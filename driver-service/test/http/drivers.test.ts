import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { encodeCursor, loadConfig } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';
import { configSchema, definition } from '../../src/main';
import { DriverHarness, paymentCaptured, paymentDeclined, ref, rideCompleted, rideRated, rideRequested } from '../factories';

/** The routes main.ts mounts, over the harness's store. */
async function appFor(h: DriverHarness): Promise<Express> {
  return routeApp(definition(loadConfig(configSchema, { LOG_LEVEL: 'error' })), h.store);
}

const body = (overrides: Record<string, unknown> = {}) => ({
  name: 'Dana Driver',
  email: 'dana@example.test',
  location: { lat: 52.52, lng: 13.405 },
  ...overrides,
});

function expectValidationProblem(res: request.Response, ...paths: string[]): void {
  expect(res.status).to.equal(400);
  expect(res.headers['content-type']).to.match(/application\/problem\+json/);
  const errors = (res.body as { errors?: { path: string }[] }).errors ?? [];
  for (const p of paths)
    expect(
      errors.map((e) => e.path),
      `errors[] names ${p}`,
    ).to.include(p);
}

describe('driver-service HTTP', () => {
  let h: DriverHarness;
  let app: Express;
  beforeEach(async () => {
    h = await DriverHarness.create();
    app = await appFor(h);
  });

  describe('POST /drivers', () => {
    it('201 with the driver, AVAILABLE by default, speaking {lat,lng}', async () => {
      const res = await request(app).post('/drivers').send(body());
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ name: 'Dana Driver', email: 'dana@example.test', status: 'AVAILABLE' });
      expect(res.body.location).to.deep.equal({ lat: 52.52, lng: 13.405 });
      expect(res.body).not.to.have.property('currentRideId');
      expect(res.headers.location).to.equal(`/drivers/${res.body.id}`);
      expect(await h.store.outbox.stats()).to.include({ pending: 0 }, 'creating a driver emits nothing');
    });

    it('accepts status OFFLINE', async () => {
      const res = await request(app)
        .post('/drivers')
        .send(body({ status: 'OFFLINE' }));
      expect(res.status).to.equal(201);
      expect(res.body.status).to.equal('OFFLINE');
    });

    it('400 with errors[] for a latitude or longitude out of range', async () => {
      expectValidationProblem(
        await request(app)
          .post('/drivers')
          .send(body({ location: { lat: 90.5, lng: 0 } })),
        'location.lat',
      );
      expectValidationProblem(
        await request(app)
          .post('/drivers')
          .send(body({ location: { lat: 0, lng: -180.01 } })),
        'location.lng',
      );
      expectValidationProblem(
        await request(app)
          .post('/drivers')
          .send(body({ location: { lat: '1', lng: 2 } })),
        'location.lat',
      );
    });

    it('400 for a missing name, a bad email, or a status only the saga may set', async () => {
      expectValidationProblem(
        await request(app)
          .post('/drivers')
          .send(body({ name: undefined, email: 'nope' })),
        'name',
        'email',
      );
      expectValidationProblem(
        await request(app)
          .post('/drivers')
          .send(body({ status: 'RESERVED' })),
        'status',
      );
    });

    it('415 for a body that is not JSON', async () => {
      const res = await request(app).post('/drivers').set('content-type', 'text/plain').send('hello');
      expect(res.status).to.equal(415);
    });
  });

  describe('GET /drivers', () => {
    it('lists newest first, filters by status, and honours limit', async () => {
      const ids: string[] = [];
      for (const status of ['AVAILABLE', 'OFFLINE', 'AVAILABLE']) {
        ids.push(((await request(app).post('/drivers').send(body({ status }))).body as { id: string }).id);
      }
      const all = await request(app).get('/drivers');
      expect(all.status).to.equal(200);
      expect((all.body as { id: string }[]).map((d) => d.id)).to.deep.equal([...ids].reverse());
      const offline = await request(app).get('/drivers?status=OFFLINE');
      expect((offline.body as { id: string }[]).map((d) => d.id)).to.deep.equal([ids[1]]);
      expect((await request(app).get('/drivers?limit=2')).body).to.have.length(2);
      expect((await request(app).get('/drivers?status=ON_TRIP')).body).to.deep.equal([]);
    });

    it('400 for a limit outside 1..1000 or an unknown status', async () => {
      expectValidationProblem(await request(app).get('/drivers?limit=0'), 'limit');
      expectValidationProblem(await request(app).get('/drivers?limit=1001'), 'limit');
      expectValidationProblem(await request(app).get('/drivers?status=SLEEPING'), 'status');
    });
  });

  describe('GET /drivers/:id', () => {
    it('200 with status and currentRideId once reserved', async () => {
      const d = await h.seedDriver();
      const ride = rideRequested();
      await h.deliver(ride);
      const res = await request(app).get(`/drivers/${d.id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: d.id, status: 'RESERVED', currentRideId: ride.payload.rideId });
    });

    it('404 problem for an unknown driver', async () => {
      const res = await request(app).get('/drivers/nobody');
      expect(res.status).to.equal(404);
      expect(res.headers['content-type']).to.match(/application\/problem\+json/);
    });
  });

  describe('PUT /drivers/:id/location', () => {
    it('200 with the moved driver, in any status, emitting nothing', async () => {
      const d = await h.seedDriver();
      await h.deliver(rideRequested());
      const before = (await h.events()).length;
      const res = await request(app).put(`/drivers/${d.id}/location`).send({ lat: -33.86, lng: 151.21 });
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ status: 'RESERVED' });
      expect(res.body.location).to.deep.equal({ lat: -33.86, lng: 151.21 });
      expect(await h.events()).to.have.length(before);
    });

    it('400 with errors[] for bad coordinates, checked before the driver is looked up', async () => {
      const d = await h.seedDriver();
      expectValidationProblem(await request(app).put(`/drivers/${d.id}/location`).send({ lat: -91, lng: 0 }), 'lat');
      expectValidationProblem(await request(app).put(`/drivers/${d.id}/location`).send({ lat: 0 }), 'lng');
      expectValidationProblem(await request(app).put('/drivers/nobody/location').send({ lat: 0, lng: 181 }), 'lng');
    });

    it('404 for an unknown driver', async () => {
      expect((await request(app).put('/drivers/nobody/location').send({ lat: 0, lng: 0 })).status).to.equal(404);
    });
  });

  describe('GET /drivers/:id/trips', () => {
    it('200 with zeros, a null lastTripAt and no trips for a driver who has had none', async () => {
      const d = await h.seedDriver();
      const res = await request(app).get(`/drivers/${d.id}/trips`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        driverId: d.id,
        summary: { completed: 0, earnings: { amount: 0, currency: 'EUR' }, rating: { average: 0, count: 0 }, lastTripAt: null },
        trips: [],
      });
    });

    it('404 for an unknown driver; 400 for a bad limit or cursor', async () => {
      expect((await request(app).get('/drivers/nobody/trips')).status).to.equal(404);
      const d = await h.seedDriver();
      expectValidationProblem(await request(app).get(`/drivers/${d.id}/trips?limit=0`), 'limit');
      expectValidationProblem(await request(app).get(`/drivers/${d.id}/trips?limit=101`), 'limit');
      expectValidationProblem(await request(app).get(`/drivers/${d.id}/trips?before=${encodeCursor('garbage')}`), 'before');
    });

    it('pages every reservation newest first with next/before, and sums the totals', async () => {
      let tick = Date.parse('2030-05-01T08:00:00.000Z');
      const paged = await DriverHarness.create({ now: () => new Date((tick += 60_000)) });
      const pagedApp = await appFor(paged);
      const d = await paged.seedDriver();
      const rideIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        const ride = rideRequested();
        rideIds.push(ride.payload.rideId);
        await paged.deliver(ride);
        if (i === 2) {
          await paged.deliver(paymentDeclined(ride.payload.rideId, d.id));
          continue;
        }
        await paged.deliver(rideCompleted(ride.payload.rideId, ref(d), new Date((tick += 60_000))));
        await paged.deliver(paymentCaptured(ride.payload.rideId, d.id, 1000 + i, new Date((tick += 1000))));
        if (i < 2) await paged.deliver(rideRated(ride.payload.rideId, d.id, 4 + i));
      }

      const seen: { rideId: string; status: string }[] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const res = await request(pagedApp)
          .get(`/drivers/${d.id}/trips`)
          .query(before ? { limit: 2, before } : { limit: 2 });
        expect(res.status).to.equal(200);
        pages++;
        expect((res.body as { trips: unknown[] }).trips.length).to.be.at.most(2);
        seen.push(...(res.body as { trips: { rideId: string; status: string }[] }).trips);
        before = (res.body as { next?: string }).next;
        if (pages === 1) {
          expect(res.body.summary).to.deep.equal({
            completed: 4,
            earnings: { amount: 1000 + 1001 + 1003 + 1004, currency: 'EUR' },
            rating: { average: 4.5, count: 2 },
            lastTripAt: new Date(tick).toISOString(),
          });
          expect(res.body.trips[0]).to.deep.include({ rideId: rideIds[4], status: 'COMPLETED', earned: { amount: 1004, currency: 'EUR' } });
          expect(res.body.trips[0]).to.have.keys('rideId', 'status', 'assignedAt', 'endedAt', 'earned');
        }
      } while (before !== undefined);

      expect(pages).to.equal(3);
      expect(seen.map((t) => t.rideId)).to.deep.equal([...rideIds].reverse());
      expect(seen.map((t) => t.status)).to.deep.equal(['COMPLETED', 'COMPLETED', 'CANCELLED', 'COMPLETED', 'COMPLETED']);
    });
  });
});
