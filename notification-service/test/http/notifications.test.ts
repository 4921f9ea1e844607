import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { loadConfig } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';
import type { SmtpSink } from '../../../test/support/smtpSink';
import type { Mailer } from '../../src/mail/mailer';
import { configSchema, definition } from '../../src/main';
import { aRide, harness, rideConfirmed, rideRejected, startSink, type NotificationHarness } from '../factories';

describe('notification-service HTTP API', () => {
  let sink: SmtpSink;
  let mailer: Mailer;
  let h: NotificationHarness;
  let app: Express;

  before(async () => {
    ({ sink, mailer } = await startSink());
  });
  after(async () => {
    await mailer.close();
    await sink.stop();
  });
  beforeEach(async () => {
    h = await harness(sink, mailer);
    app = routeApp(definition(loadConfig(configSchema, { SMTP_URL: sink.url, LOG_LEVEL: 'error' }), { mailer }), h.store);
  });

  describe('GET /notifications', () => {
    it('answers 200 with an empty array when nothing matches', async () => {
      const res = await request(app).get('/notifications').query({ rideId: 'no-such-ride' });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal([]);
    });

    it('lists the records of a ride with recipient, template and status', async () => {
      const ride = aRide();
      await h.deliver(rideConfirmed(ride));
      const res = await request(app).get('/notifications').query({ rideId: ride.rideId });
      expect(res.status).to.equal(200);
      expect(res.body).to.have.length(2);
      for (const n of res.body as Array<Record<string, unknown>>) {
        expect(n).to.include({ rideId: ride.rideId, template: 'ride-confirmed', status: 'SENT' });
        expect(n).to.have.keys(
          'id',
          'rideId',
          'recipient',
          'recipientName',
          'recipientRole',
          'template',
          'status',
          'subject',
          'attempts',
          'outcomeEmitted',
          'causationId',
          'createdAt',
          'updatedAt',
          'sentAt',
        );
      }
      expect((res.body as Array<{ recipient: string }>).map((n) => n.recipient).sort()).to.deep.equal(
        [ride.rider.email, ride.driver.email].sort(),
      );
    });

    it('lists newest first and at most `limit` items', async () => {
      let clock = Date.parse('2024-05-01T10:00:00.000Z');
      h.deps.now = () => new Date((clock += 1000));
      const rides = [aRide(), aRide(), aRide()];
      for (const ride of rides) await h.deliver(rideRejected(ride));
      const all = await request(app).get('/notifications');
      expect((all.body as Array<{ rideId: string }>).map((n) => n.rideId)).to.deep.equal(rides.map((r) => r.rideId).reverse());
      const two = await request(app).get('/notifications').query({ limit: 2 });
      expect(two.body).to.have.length(2);
    });

    for (const limit of ['0', '1001', 'ten']) {
      it(`answers 400 problem+json for limit=${limit}`, async () => {
        const res = await request(app).get('/notifications').query({ limit });
        expect(res.status).to.equal(400);
        expect(res.type).to.equal('application/problem+json');
        expect(res.body.errors[0]).to.include({ location: 'query', path: 'limit' });
      });
    }
  });

  describe('GET /notifications/:id', () => {
    it('answers 200 with the record', async () => {
      const ride = aRide();
      await h.deliver(rideRejected(ride));
      const [listed] = (await request(app).get('/notifications').query({ rideId: ride.rideId })).body as Array<{ id: string }>;
      const res = await request(app).get(`/notifications/${listed!.id}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({
        id: listed!.id,
        rideId: ride.rideId,
        recipient: ride.rider.email,
        template: 'ride-rejected',
        status: 'SENT',
      });
    });

    it('answers 404 problem+json for an unknown record', async () => {
      const res = await request(app).get('/notifications/ntf_unknown');
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('application/problem+json');
    });
  });

  describe('GET /readyz', () => {
    it('answers 200 while the SMTP server answers', async () => {
      const res = await request(app).get('/readyz');
      expect(res.status).to.equal(200);
    });
  });
});
