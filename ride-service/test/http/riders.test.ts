// HTTP: POST /riders and GET /riders/:id.
import { expect } from 'chai';
import request from 'supertest';
import { httpHarness, type HttpHarness } from './support';

describe('ride-service HTTP: riders', () => {
  let t: HttpHarness;
  beforeEach(async () => {
    t = await httpHarness();
  });

  it('POST /riders creates an ACTIVE rider by default: 201 with Location', async () => {
    const res = await request(t.app).post('/riders').send({ name: 'Rita', email: 'rita@example.com' }).expect(201);
    expect(res.body).to.deep.equal({ id: res.body.id, name: 'Rita', email: 'rita@example.com', status: 'ACTIVE' });
    expect(res.headers['location']).to.equal(`/riders/${res.body.id}`);
  });

  it('POST /riders keeps an explicit INACTIVE status', async () => {
    const res = await request(t.app).post('/riders').send({ name: 'Ina', email: 'ina@example.com', status: 'INACTIVE' }).expect(201);
    expect(res.body.status).to.equal('INACTIVE');
  });

  it('POST /riders answers 400 problem+json with errors[] for an invalid body', async () => {
    const res = await request(t.app).post('/riders').send({ name: '', email: 'not-an-email', status: 'SLEEPING' }).expect(400);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body).to.include({ status: 400 });
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
    expect(paths).to.deep.equal(['email', 'name', 'status']);
  });

  it('POST /riders answers 415 for a body that is not JSON', async () => {
    await request(t.app).post('/riders').set('content-type', 'text/plain').send('name=Rita').expect(415);
  });

  it('GET /riders/:id answers 200 with the rider, 404 for an unknown one', async () => {
    const id = await t.rider();
    const res = await request(t.app).get(`/riders/${id}`).expect(200);
    expect(res.body).to.include({ id, status: 'ACTIVE' });
    const missing = await request(t.app).get('/riders/nobody').expect(404);
    expect(missing.body.type).to.match(/not-found$/);
  });
});
