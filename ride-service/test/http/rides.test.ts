// HTTP: POST /rides (with Idempotency-Key), GET /rides, GET /rides/:id, cancel and complete.
import { expect } from 'chai';
import request from 'supertest';
import { rides } from '../../src/store/collections';
import { aDriver } from '@ridehail/shared/testing';
import { DROPOFF, driverAssigned, driverUnavailable, paymentAuthorized, PICKUP } from '../factories';
import { httpHarness, racingStore, rideApp, type HttpHarness } from './support';

describe('ride-service HTTP: rides', () => {
  let t: HttpHarness;
  beforeEach(async () => {
    t = await httpHarness();
  });

  const body = (riderId: string, extra: Record<string, unknown> = {}) => ({ riderId, pickup: PICKUP, dropoff: DROPOFF, ...extra });

  async function confirm(rideId: string) {
    const driver = aDriver();
    await t.h.deliver(driverAssigned(await t.h.ride(rideId), driver));
    await t.h.deliver(paymentAuthorized(await t.h.ride(rideId), driver));
    return driver;
  }

  describe('POST /rides', () => {
    it('answers 202 with the REQUESTED ride and its Location, and emits ride.requested', async () => {
      const riderId = await t.rider();
      const res = await request(t.app).post('/rides').set('x-request-id', 'req-create-1').send(body(riderId)).expect(202);
      expect(res.body).to.include({ status: 'REQUESTED', riderId, paymentMethod: 'pm_card_visa' });
      expect(res.body.rideId).to.be.a('string').and.equal(res.body.id);
      expect(res.body.pickup).to.deep.equal(PICKUP);
      expect(res.body.history).to.deep.equal([{ status: 'REQUESTED', at: res.body.createdAt, cause: 'req-create-1' }]);
      expect(res.headers['location']).to.equal(`/rides/${res.body.rideId}`);
      const [event, ...more] = await t.h.emitted();
      expect(more).to.deep.equal([]);
      expect(event).to.deep.include({ type: 'ride.requested', exchange: 'ride.events' });
      expect(event?.headers).to.include({ correlationId: res.body.rideId, source: 'ride-service' });
      expect(event?.headers).to.not.have.property('causationId');
      expect(event?.payload).to.deep.include({ rideId: res.body.rideId, pickup: PICKUP, dropoff: DROPOFF, paymentMethod: 'pm_card_visa' });
    });

    it('answers 400 with errors[] for an invalid body, before looking at the rider', async () => {
      const res = await request(t.app)
        .post('/rides')
        .send({ riderId: 'nobody', pickup: { lat: 91, lng: 0 }, dropoff: { lat: 0, lng: -181 } })
        .expect(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect((res.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).to.deep.equal(['dropoff.lng', 'pickup.lat']);
    });

    it('answers 400 for malformed JSON', async () => {
      await request(t.app).post('/rides').set('content-type', 'application/json').send('{"riderId":').expect(400);
    });

    it('answers 404 for an unknown rider', async () => {
      const res = await request(t.app).post('/rides').send(body('nobody')).expect(404);
      expect(res.body.type).to.match(/not-found$/);
    });

    it('answers 403 rider-inactive for an inactive rider, and makes no ride', async () => {
      const riderId = await t.rider('INACTIVE');
      const res = await request(t.app).post('/rides').send(body(riderId)).expect(403);
      expect(res.body.type).to.match(/rider-inactive$/);
      expect(await t.h.store.read(rides).count({ riderId })).to.equal(0);
      expect(await t.h.emitted()).to.deep.equal([]);
    });

    it('counts every one of 40 concurrent ride requests of one rider in its summary', async () => {
      const riderId = await t.rider();
      const results = await Promise.all(Array.from({ length: 40 }, () => request(t.app).post('/rides').send(body(riderId))));
      expect(results.map((r) => r.status)).to.deep.equal(Array.from({ length: 40 }, () => 202));
      expect(await t.h.store.read(rides).count({ riderId })).to.equal(40);
      expect(await t.h.summary(riderId)).to.include({ requested: 40 });
    });

    it('lets a rider have several rides in progress at once', async () => {
      const riderId = await t.rider();
      const a = await t.ride(riderId);
      const b = await t.ride(riderId);
      expect(a).to.not.equal(b);
    });

    describe('with an Idempotency-Key', () => {
      it('answers the same ride for the same key and body, and emits ride.requested once', async () => {
        const riderId = await t.rider();
        const first = await request(t.app).post('/rides').set('Idempotency-Key', 'key-1').send(body(riderId)).expect(202);
        const again = await request(t.app)
          .post('/rides')
          .set('Idempotency-Key', 'key-1')
          .send(body(riderId, { paymentMethod: 'pm_card_visa' }))
          .expect(202);
        expect(again.body.rideId).to.equal(first.body.rideId);
        expect(again.headers['location']).to.equal(`/rides/${first.body.rideId}`);
        expect(await t.h.store.read(rides).count({ riderId })).to.equal(1);
        expect(await t.h.emittedTypes()).to.deep.equal(['ride.requested']);
      });

      it('answers 409 for the same key with a different body', async () => {
        const riderId = await t.rider();
        await request(t.app).post('/rides').set('Idempotency-Key', 'key-2').send(body(riderId)).expect(202);
        const res = await request(t.app)
          .post('/rides')
          .set('Idempotency-Key', 'key-2')
          .send(body(riderId, { dropoff: PICKUP }))
          .expect(409);
        expect(res.body.type).to.match(/conflict$/);
        expect(await t.h.store.read(rides).count({ riderId })).to.equal(1);
      });

      it('scopes the key to its rider', async () => {
        const a = await t.rider();
        const b = await t.rider();
        const ra = await request(t.app).post('/rides').set('Idempotency-Key', 'shared').send(body(a)).expect(202);
        const rb = await request(t.app).post('/rides').set('Idempotency-Key', 'shared').send(body(b)).expect(202);
        expect(rb.body.rideId).to.not.equal(ra.body.rideId);
      });

      it('makes one ride for two concurrent first requests with one key', async () => {
        const riderId = await t.rider();
        const app = rideApp(racingStore(t.h.store, 2));
        const send = () => request(app).post('/rides').set('Idempotency-Key', 'race').send(body(riderId));
        const [a, b] = await Promise.all([send(), send()]);
        expect([a.status, b.status]).to.deep.equal([202, 202]);
        expect(a.body.rideId).to.equal(b.body.rideId);
        expect(await t.h.store.read(rides).count({ riderId })).to.equal(1);
        expect(await t.h.emittedTypes()).to.deep.equal(['ride.requested']);
      });

      it('answers 409 to the loser of a race that sent another body', async () => {
        const riderId = await t.rider();
        const app = rideApp(racingStore(t.h.store, 2));
        const [a, b] = await Promise.all([
          request(app).post('/rides').set('Idempotency-Key', 'race-2').send(body(riderId)),
          request(app)
            .post('/rides')
            .set('Idempotency-Key', 'race-2')
            .send(body(riderId, { dropoff: PICKUP })),
        ]);
        expect([a.status, b.status].sort()).to.deep.equal([202, 409]);
        expect(await t.h.store.read(rides).count({ riderId })).to.equal(1);
      });

      it('answers 400 for a key that is not printable ASCII', async () => {
        const riderId = await t.rider();
        const res = await request(t.app).post('/rides').set('Idempotency-Key', 'a'.repeat(300)).send(body(riderId)).expect(400);
        expect(res.body.errors[0]).to.include({ location: 'headers', path: 'idempotency-key' });
      });
    });
  });

  describe('GET /rides/:id', () => {
    it('answers the ride with its history, each change with its cause', async () => {
      const riderId = await t.rider();
      const rideId = await t.ride(riderId);
      const msg = driverAssigned(await t.h.ride(rideId));
      await t.h.deliver(msg);
      const res = await request(t.app).get(`/rides/${rideId}`).expect(200);
      expect(res.body).to.include({ id: rideId, riderId, status: 'DRIVER_ASSIGNED' });
      expect(res.body.driver).to.deep.equal(msg.payload.driver);
      expect(res.body.history.map((e: { status: string }) => e.status)).to.deep.equal(['REQUESTED', 'DRIVER_ASSIGNED']);
      expect(res.body.history[1].cause).to.equal(msg.id);
      expect(res.body.createdAt).to.be.a('string');
      expect(res.body.updatedAt).to.be.a('string');
    });

    it('answers 404 for an unknown ride', async () => {
      await request(t.app).get('/rides/nope').expect(404);
    });
  });

  describe('GET /rides', () => {
    it('filters by rider and status, newest first, at most limit', async () => {
      const a = await t.rider();
      const b = await t.rider();
      const first = await t.ride(a);
      const second = await t.ride(a);
      const third = await t.ride(a);
      await t.ride(b);
      await t.h.deliver(driverUnavailable(await t.h.ride(second)));

      const all = await request(t.app).get('/rides').query({ riderId: a }).expect(200);
      expect(all.body.map((r: { id: string }) => r.id)).to.deep.equal([third, second, first]);
      const rejected = await request(t.app).get('/rides').query({ riderId: a, status: 'REJECTED' }).expect(200);
      expect(rejected.body.map((r: { id: string }) => r.id)).to.deep.equal([second]);
      const limited = await request(t.app).get('/rides').query({ riderId: a, limit: 2 }).expect(200);
      expect(limited.body.map((r: { id: string }) => r.id)).to.deep.equal([third, second]);
      const none = await request(t.app).get('/rides').query({ riderId: 'nobody' }).expect(200);
      expect(none.body).to.deep.equal([]);
    });

    it('answers 400 for a bad status or limit', async () => {
      await request(t.app).get('/rides').query({ status: 'FLYING' }).expect(400);
      await request(t.app).get('/rides').query({ limit: 0 }).expect(400);
      await request(t.app).get('/rides').query({ limit: 1001 }).expect(400);
    });
  });

  describe('POST /rides/:id/cancel', () => {
    for (const [status, prepare] of [
      ['REQUESTED', async () => undefined],
      ['DRIVER_ASSIGNED', async (id: string) => void (await t.h.deliver(driverAssigned(await t.h.ride(id))))],
      ['CONFIRMED', async (id: string) => void (await confirm(id))],
    ] as Array<[string, (id: string) => Promise<void>]>) {
      it(`cancels a ${status} ride: 202, reason rider_cancelled, emits ride.cancelled`, async () => {
        const rideId = await t.ride(await t.rider());
        await prepare(rideId);
        await t.h.emitted();
        const res = await request(t.app).post(`/rides/${rideId}/cancel`).set('x-request-id', 'req-cancel').expect(202);
        expect(res.body).to.include({ id: rideId, status: 'CANCELLED', reason: 'rider_cancelled' });
        expect(res.body.history.at(-1)).to.include({ status: 'CANCELLED', cause: 'req-cancel' });
        const events = await t.h.emitted();
        expect(events.map((e) => e.type)).to.deep.equal(['ride.cancelled']);
        expect(events[0]?.payload).to.include({ reason: 'rider_cancelled' });
      });
    }

    it('answers 409 for a terminal ride, 404 for an unknown one', async () => {
      const rideId = await t.ride(await t.rider());
      await request(t.app).post(`/rides/${rideId}/cancel`).expect(202);
      const res = await request(t.app).post(`/rides/${rideId}/cancel`).expect(409);
      expect(res.body.type).to.match(/conflict$/);
      await request(t.app).post('/rides/nope/cancel').expect(404);
    });
  });

  describe('POST /rides/:id/complete', () => {
    it('completes a CONFIRMED ride: 202, emits ride.completed', async () => {
      const rideId = await t.ride(await t.rider());
      const driver = await confirm(rideId);
      await t.h.emitted();
      const res = await request(t.app).post(`/rides/${rideId}/complete`).expect(202);
      expect(res.body).to.include({ status: 'COMPLETED' });
      const events = await t.h.emitted();
      expect(events.map((e) => e.type)).to.deep.equal(['ride.completed']);
      expect(events[0]?.payload).to.deep.include({ rideId, driver });
    });

    it('answers 409 unless CONFIRMED, 404 for an unknown ride', async () => {
      const rideId = await t.ride(await t.rider());
      await request(t.app).post(`/rides/${rideId}/complete`).expect(409);
      await confirm(rideId);
      await request(t.app).post(`/rides/${rideId}/complete`).expect(202);
      await request(t.app).post(`/rides/${rideId}/complete`).expect(409);
      await request(t.app).post('/rides/nope/complete').expect(404);
    });
  });
});
