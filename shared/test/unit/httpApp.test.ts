import { expect } from 'chai';
import request from 'supertest';
import { z } from 'zod';
import { AppError, ConflictError, NotFoundError, createHttpApp, createLogger, createMetrics, parseBody } from '@ridehail/shared';

function appWith(ready = true, notReadyReason?: string) {
  return createHttpApp({
    service: 'test-service',
    logger: createLogger('test-service', 'error'),
    metrics: createMetrics('test-service'),
    readiness: async () => ready,
    notReadyReason: () => notReadyReason,
    mount: (router) => {
      router.post('/things', async (req, res) => {
        const body = parseBody(z.object({ name: z.string().min(1), size: z.number().int() }), req.body);
        res.status(201).json(body);
      });
      router.get('/things/:id', async (req) => {
        if (req.params['id'] === 'locked') throw new ConflictError('thing is locked');
        if (req.params['id'] === 'inactive') throw new AppError('rider-inactive', 'rider is inactive');
        throw new NotFoundError('thing', String(req.params['id']));
      });
      router.get('/boom', async () => {
        throw new Error('secret internal detail');
      });
    },
  });
}

describe('HTTP kit', () => {
  it('serves /healthz and says 200 on /readyz when ready', async () => {
    await request(appWith()).get('/healthz').expect(200);
    await request(appWith()).get('/readyz').expect(200);
  });

  it('says 503 on /readyz while store or broker is down', async () => {
    await request(appWith(false)).get('/readyz').expect(503);
  });

  it('says on /readyz what an operator must fix when the service knows it (e.g. a conflicting queue)', async () => {
    const res = await request(appWith(false, 'queue t1.ride-service already exists with other arguments')).get('/readyz').expect(503);
    expect(res.body).to.deep.equal({
      status: 'not ready',
      service: 'test-service',
      reason: 'queue t1.ride-service already exists with other arguments',
    });
    const ready = await request(appWith(true, 'stale')).get('/readyz').expect(200);
    expect(ready.body).to.not.have.property('reason');
  });

  it('exposes the messaging metrics in Prometheus text', async () => {
    const res = await request(appWith()).get('/metrics').expect(200);
    for (const name of [
      'messages_published',
      'messages_consumed',
      'messages_retried',
      'messages_dead_lettered',
      'outbox_pending',
      'outbox_oldest_pending_age_seconds',
      'handler_duration_seconds',
    ]) {
      expect(res.text).to.contain(name);
    }
  });

  it('answers 400 problem+json with errors[] for an invalid body', async () => {
    const res = await request(appWith()).post('/things').send({ name: '', size: 1.5 }).expect(400);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body.status).to.equal(400);
    expect(res.body.errors).to.be.an('array').with.length(2);
    expect(res.body.errors.map((e: { path: string }) => e.path)).to.have.members(['name', 'size']);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await request(appWith()).post('/things').set('content-type', 'application/json').send('{"name":').expect(400);
    expect(res.body.type).to.match(/malformed-json$/);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await request(appWith()).post('/things').set('content-type', 'text/plain').send('name=x').expect(415);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await request(appWith())
      .post('/things')
      .send({ name: 'x'.repeat(20_000), size: 1 })
      .expect(413);
    expect(res.body.status).to.equal(413);
  });

  it('answers 400, never 500, for a path that is not valid percent-encoding or a gzip body that does not inflate', async () => {
    const path = await request(appWith()).get('/things/%E0%A4%A').expect(400);
    expect(path.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(path.body.type).to.match(/bad-request$/);
    const gzip = await request(appWith())
      .post('/things')
      .set('content-type', 'application/json')
      .set('content-encoding', 'gzip')
      .send('not gzip')
      .expect(400);
    expect(gzip.headers['content-type']).to.match(/^application\/problem\+json/);
  });

  it('maps error codes to 404, 409 and 403 in one place', async () => {
    await request(appWith()).get('/things/nope').expect(404);
    await request(appWith()).get('/things/locked').expect(409);
    const res = await request(appWith()).get('/things/inactive').expect(403);
    expect(res.body.type).to.match(/rider-inactive$/);
  });

  it('never leaks a stack trace or internal message on 500', async () => {
    const res = await request(appWith()).get('/boom').expect(500);
    expect(JSON.stringify(res.body)).not.to.contain('secret internal detail');
    expect(JSON.stringify(res.body)).not.to.match(/at .*\.ts:\d+/);
  });

  it('answers 404 problem+json for an unknown route', async () => {
    const res = await request(appWith()).get('/nowhere').expect(404);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  });
});
