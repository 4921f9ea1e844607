import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { loadConfig } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';
import { configSchema, definition } from '../../src/main';
import { aRide, driverAssigned, harness, rideCancelled, type PaymentHarness } from '../factories';

/** The routes main.ts mounts, over the harness's store. */
async function appFor(h: PaymentHarness): Promise<Express> {
  return routeApp(definition(loadConfig(configSchema, { LOG_LEVEL: 'error' })), h.store);
}

describe('payment-service HTTP API', () => {
  let h: PaymentHarness;
  let app: Express;

  beforeEach(async () => {
    h = await harness();
    app = await appFor(h);
  });

  describe('GET /payments', () => {
    it('answers 200 with an empty array when nothing matches', async () => {
      const res = await request(app).get('/payments').query({ rideId: 'no-such-ride' });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal([]);
    });

    it('lists the authorization of a ride, one per ride', async () => {
      const ride = aRide();
      await h.deliver(driverAssigned(ride));
      const res = await request(app).get('/payments').query({ rideId: ride.rideId });
      expect(res.status).to.equal(200);
      expect(res.body).to.have.length(1);
      expect(res.body[0]).to.deep.include({ rideId: ride.rideId, status: 'AUTHORIZED', currency: 'EUR' });
      expect(res.body[0].amount).to.be.a('number');
    });

    it('lists newest first and at most `limit` items', async () => {
      let clock = Date.parse('2024-05-01T10:00:00.000Z');
      h.deps.now = () => new Date((clock += 1000));
      const rides = [aRide(), aRide(), aRide()];
      for (const ride of rides) await h.deliver(driverAssigned(ride));
      const all = await request(app).get('/payments');
      expect(all.body.map((p: { rideId: string }) => p.rideId)).to.deep.equal(rides.map((r) => r.rideId).reverse());
      const two = await request(app).get('/payments').query({ limit: 2 });
      expect(two.body).to.have.length(2);
    });

    for (const limit of ['0', '1001', 'many', '1.5']) {
      it(`answers 400 problem+json for limit=${limit}`, async () => {
        const res = await request(app).get('/payments').query({ limit });
        expect(res.status).to.equal(400);
        expect(res.type).to.equal('application/problem+json');
        expect(res.body.errors).to.be.an('array').that.is.not.empty;
        expect(res.body.errors[0]).to.include({ location: 'query', path: 'limit' });
      });
    }
  });

  describe('GET /payments/:id', () => {
    it('answers 200 with the payment and its status', async () => {
      const ride = aRide();
      await h.deliver(driverAssigned(ride));
      await h.deliver(rideCancelled(ride));
      const [listed] = (await request(app).get('/payments').query({ rideId: ride.rideId })).body as Array<{ id: string }>;
      const res = await request(app).get(`/payments/${listed!.id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.include({ id: listed!.id, rideId: ride.rideId, status: 'VOIDED', currency: 'EUR' });
      expect(res.body).to.not.have.property('version');
    });

    it('answers 404 problem+json for an unknown payment', async () => {
      const res = await request(app).get('/payments/pay_unknown');
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('application/problem+json');
      expect(res.body).to.include({ status: 404 });
    });
  });
});
