// docker-compose.yml and the Dockerfile checked against the services' own config schemas and DESIGN §1/§7 (no Docker needed).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadConfig } from '@ridehail/shared';
import { configSchema as driverSchema } from '../../driver-service/src/main';
import { configSchema as notificationSchema } from '../../notification-service/src/main';
import { configSchema as paymentSchema } from '../../payment-service/src/main';
import { configSchema as rideSchema } from '../../ride-service/src/main';

const root = path.resolve(__dirname, '..', '..');

const serviceSchema = z
  .object({
    image: z.string().optional(),
    build: z.unknown().optional(),
    command: z.union([z.string(), z.array(z.string())]).optional(),
    environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    ports: z.array(z.string()).optional(),
    depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
    healthcheck: z
      .object({ test: z.union([z.string(), z.array(z.string())]) })
      .loose()
      .optional(),
  })
  .loose();
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) }).loose();

function loadCompose() {
  const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  return composeSchema.parse(parse(text, { merge: true }));
}

const ours = [
  { name: 'ride-service', port: 3001, schema: rideSchema },
  { name: 'driver-service', port: 3002, schema: driverSchema },
  { name: 'payment-service', port: 3003, schema: paymentSchema },
  { name: 'notification-service', port: 3004, schema: notificationSchema },
];

function envOf(service: z.infer<typeof serviceSchema>): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(' ') : (value ?? ''));

describe('docker-compose.yml', () => {
  const compose = loadCompose();

  for (const { name, port, schema } of ours) {
    describe(name, () => {
      const service = compose.services[name];

      it('is defined, built from the repository Dockerfile and runs its own compiled main', () => {
        expect(service, `service ${name}`).to.not.equal(undefined);
        expect(service?.build).to.not.equal(undefined);
        expect(text(service?.command)).to.contain(`${name}/dist/main.js`);
      });

      it('has an environment its configSchema accepts, on the port of DESIGN §1', () => {
        const config = loadConfig(schema, envOf(service!)) as { PORT: number };
        expect(config.PORT).to.equal(port);
        expect(service?.ports).to.include(`${port}:${port}`);
      });

      it('provides every variable its schema declares without a default', () => {
        const env = envOf(service!);
        const required = Object.entries(schema.shape as Record<string, z.ZodType>)
          .filter(([, field]) => !field.safeParse(undefined).success)
          .map(([key]) => key);
        for (const key of required) expect(env, `${name} needs ${key}`).to.have.property(key);
      });

      it('sets no variable its schema does not know (a typo would be ignored silently)', () => {
        const known = Object.keys(schema.shape as Record<string, unknown>);
        for (const key of Object.keys(envOf(service!))) expect(known, `${name}: ${key}`).to.include(key);
      });

      it('talks to the compose MongoDB replica set and RabbitMQ by service name', () => {
        const env = envOf(service!);
        expect(env['MONGO_URL']).to.match(/^mongodb:\/\/mongodb:27017\/.*replicaSet=rs0/);
        expect(env['AMQP_URL']).to.match(/^amqp:\/\/([^@]*@)?rabbitmq(:5672)?/);
      });

      it('is healthy only when /readyz answers, and starts after healthy MongoDB and RabbitMQ', () => {
        expect(text(service?.healthcheck?.test)).to.contain(`127.0.0.1:${port}/readyz`);
        expect(service?.depends_on?.['mongodb']?.condition).to.equal('service_healthy');
        expect(service?.depends_on?.['rabbitmq']?.condition).to.equal('service_healthy');
      });
    });
  }

  it('sends notification emails to the mail catcher, which has a web UI', () => {
    expect(envOf(compose.services['notification-service']!)['SMTP_URL']).to.equal('smtp://mailpit:1025');
    expect(compose.services['notification-service']?.depends_on?.['mailpit']?.condition).to.equal('service_healthy');
    expect(compose.services['mailpit']?.ports).to.include.members(['1025:1025', '8025:8025']);
  });

  it('runs MongoDB 7 as a single-node replica set initiated by its healthcheck', () => {
    const mongo = compose.services['mongodb']!;
    expect(mongo.image).to.match(/^mongo:7/);
    expect(text(mongo.command)).to.contain('--replSet rs0');
    expect(text(mongo.healthcheck?.test)).to.contain("rs.initiate({_id:'rs0',members:[{_id:0,host:'mongodb:27017'}]})");
  });

  it('runs RabbitMQ 3.13 with the management UI on 15672 and the tracing plugin enabled', () => {
    const rabbit = compose.services['rabbitmq']!;
    expect(rabbit.image).to.equal('rabbitmq:3.13-management');
    expect(rabbit.ports).to.include.members(['5672:5672', '15672:15672']);
    expect(text(rabbit.command)).to.contain('rabbitmq-plugins enable --offline rabbitmq_tracing');
    expect(rabbit.healthcheck).to.not.equal(undefined);
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs from a slim Node 20 image in another', () => {
    expect(stages).to.have.length(2);
    expect(stages[0])
      .to.match(/npm ci/)
      .and.match(/tsc -b/);
    expect(stages[1]).to.match(/^node:20-slim/);
  });

  it('installs production dependencies only and runs as the unprivileged node user', () => {
    expect(stages[1]).to.contain('npm ci --omit=dev');
    expect(stages[1]).to.match(/^USER node$/m);
    expect(stages[1]).to.not.match(/tsc/);
  });

  it('copies every service build into the runtime image', () => {
    for (const { name } of ours) expect(stages[1]).to.contain(`COPY --from=build /app/${name}/dist ${name}/dist`);
  });
});
