// HTTP: POST /rides/:id/rating and GET /riders/:id/trips (the rider's trip history view).
import { expect } from 'chai';
import request from 'supertest';
import { aDriver, republished } from '@ridehail/shared/testing';
import { driverAssigned, fareCalculated, paymentAuthorized, paymentCaptured, paymentDeclined } from '../factories';
import { httpHarness, type HttpHarness } from './support';

describe('ride-service HTTP: ratings and trip history', () => {
  let t: HttpHarness;
  beforeEach(async () => {
    t = await httpHarness();
  });

  async function completedRide(riderId: string, fare = 1500) {
    const rideId = await t.ride(riderId);
    const driver = aDriver();
    await t.h.deliver(driverAssigned(await t.h.ride(rideId), driver));
    await t.h.deliver(fareCalculated(await t.h.ride(rideId), fare));
    await t.h.deliver(paymentAuthorized(await t.h.ride(rideId), driver, fare));
    await request(t.app).post(`/rides/${rideId}/complete`).expect(202);
    await t.h.emitted();
    return { rideId, driver };
  }

  describe('POST /rides/:id/rating', () => {
    it('rates a COMPLETED ride: 201 and emits ride.rated', async () => {
      const riderId = await t.rider();
      const { rideId, driver } = await completedRide(riderId);
      const res = await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 5, comment: 'lovely' }).expect(201);
      expect(res.body).to.deep.equal({ rideId, stars: 5, comment: 'lovely', ratedAt: res.body.ratedAt });
      expect(Date.parse(res.body.ratedAt)).to.be.a('number').and.not.NaN;
      const events = await t.h.emitted();
      expect(events.map((e) => e.type)).to.deep.equal(['ride.rated']);
      expect(events[0]?.payload).to.deep.equal({ rideId, riderId, driverId: driver.id, stars: 5 });
    });

    it('answers 201 without a comment', async () => {
      const { rideId } = await completedRide(await t.rider());
      const res = await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 1 }).expect(201);
      expect(res.body).to.not.have.property('comment');
    });

    it('answers 409 when the ride is already rated, and emits nothing more', async () => {
      const { rideId } = await completedRide(await t.rider());
      await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 4 }).expect(201);
      await t.h.emitted();
      const res = await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 4 }).expect(409);
      expect(res.body.type).to.match(/conflict$/);
      expect(await t.h.emitted()).to.deep.equal([]);
    });

    it('answers 409 unless the ride is COMPLETED', async () => {
      const rideId = await t.ride(await t.rider());
      await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 4 }).expect(409);
    });

    for (const [what, bad] of [
      ['stars 0', { stars: 0 }],
      ['stars 6', { stars: 6 }],
      ['stars 3.5', { stars: 3.5 }],
      ['stars as text', { stars: '5' }],
      ['no stars', {}],
      ['a comment over 500 characters', { stars: 5, comment: 'x'.repeat(501) }],
    ] as Array<[string, Record<string, unknown>]>) {
      it(`answers 400 with errors[] for ${what}`, async () => {
        const { rideId } = await completedRide(await t.rider());
        const res = await request(t.app).post(`/rides/${rideId}/rating`).send(bad).expect(400);
        expect(res.body.errors).to.be.an('array').that.is.not.empty;
      });
    }

    it('answers 404 for an unknown ride, after checking the body', async () => {
      await request(t.app).post('/rides/nope/rating').send({ stars: 5 }).expect(404);
      await request(t.app).post('/rides/nope/rating').send({ stars: 9 }).expect(400);
    });
  });

  describe('GET /riders/:id/trips', () => {
    it('answers zeros and no trips for a rider without any', async () => {
      const riderId = await t.rider();
      const res = await request(t.app).get(`/riders/${riderId}/trips`).expect(200);
      expect(res.body).to.deep.equal({
        riderId,
        summary: { requested: 0, completed: 0, cancelled: 0, rejected: 0, spent: { amount: 0, currency: 'EUR' }, lastTripAt: null },
        trips: [],
      });
    });

    it('answers 404 for an unknown rider', async () => {
      const res = await request(t.app).get('/riders/nobody/trips').expect(404);
      expect(res.body.type).to.match(/not-found$/);
    });

    it('shows totals and trips after a completed, captured and rated ride and a declined one, unchanged by republished events', async () => {
      const riderId = await t.rider();
      const { rideId, driver } = await completedRide(riderId, 1500);
      const captured = paymentCaptured(await t.h.ride(rideId), 1500, driver.id);
      await t.h.deliver(captured);
      await request(t.app).post(`/rides/${rideId}/rating`).send({ stars: 4 }).expect(201);
      const declinedId = await t.ride(riderId);
      await t.h.deliver(paymentDeclined(await t.h.ride(declinedId)));
      await t.h.deliver(captured);
      await t.h.deliver(republished(captured));

      const res = await request(t.app).get(`/riders/${riderId}/trips`).expect(200);
      const latest = await t.h.ride(declinedId);
      expect(res.body.summary).to.deep.equal({
        requested: 2,
        completed: 1,
        cancelled: 1,
        rejected: 0,
        spent: { amount: 1500, currency: 'EUR' },
        lastTripAt: latest.updatedAt,
      });
      const completed = await t.h.ride(rideId);
      expect(res.body.trips).to.deep.equal([
        { rideId: declinedId, status: 'CANCELLED', requestedAt: latest.createdAt, endedAt: latest.endedAt },
        {
          rideId,
          status: 'COMPLETED',
          requestedAt: completed.createdAt,
          endedAt: completed.endedAt,
          driverId: driver.id,
          fare: { amount: 1500, currency: 'EUR' },
          paid: { amount: 1500, currency: 'EUR' },
          rating: 4,
        },
      ]);
      expect(res.body).to.not.have.property('next');
    });

    it('pages newest first with limit, next and before', async () => {
      const riderId = await t.rider();
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push(await t.ride(riderId));
      const newestFirst = [...made].reverse();

      const page1 = await request(t.app).get(`/riders/${riderId}/trips`).query({ limit: 2 }).expect(200);
      expect(page1.body.trips.map((x: { rideId: string }) => x.rideId)).to.deep.equal(newestFirst.slice(0, 2));
      expect(page1.body.next).to.be.a('string');
      const page2 = await request(t.app).get(`/riders/${riderId}/trips`).query({ limit: 2, before: page1.body.next }).expect(200);
      expect(page2.body.trips.map((x: { rideId: string }) => x.rideId)).to.deep.equal(newestFirst.slice(2, 4));
      const page3 = await request(t.app).get(`/riders/${riderId}/trips`).query({ limit: 2, before: page2.body.next }).expect(200);
      expect(page3.body.trips.map((x: { rideId: string }) => x.rideId)).to.deep.equal(newestFirst.slice(4));
      expect(page3.body).to.not.have.property('next');
      expect(page3.body.summary.requested).to.equal(5);

      const defaults = await request(t.app).get(`/riders/${riderId}/trips`).expect(200);
      expect(defaults.body.trips).to.have.length(5);
    });

    it('answers 400 for a limit outside 1..100 or a before that is not a cursor', async () => {
      const riderId = await t.rider();
      for (const query of [{ limit: 0 }, { limit: 101 }, { limit: 'many' }, { before: 'not-a-cursor' }]) {
        const res = await request(t.app).get(`/riders/${riderId}/trips`).query(query).expect(400);
        expect(res.body.errors).to.be.an('array').that.is.not.empty;
      }
    });
  });
});
