// docker-compose.yml and the Dockerfile checked against the services' own config schemas and DESIGN §1/§7 (no Docker needed).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { z } from 'zod';
import { amqpUrls, loadConfig } from '@ridehail/shared';
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
    expose: z.array(z.union([z.string(), z.number()])).optional(),
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

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME-default}` against `vars` (none set by default). */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g,
    (_all, name: string, op: string | undefined, fallback: string | undefined) => {
      const set = vars[name];
      if (op === ':-') return set !== undefined && set !== '' ? set : (fallback ?? '');
      if (op === '-') return set ?? fallback ?? '';
      return set ?? '';
    },
  );
}

/** A service's environment as the container sees it, with the variables of the shell running compose in `vars`. */
function envOf(service: z.infer<typeof serviceSchema>, vars: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
}

const clusterNodes = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];
const clusterAmqpUrl = clusterNodes.map((n) => `amqp://guest:guest@${n}:5672`).join(',');

const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(' ') : (value ?? ''));

/** The host side of a short-syntax port mapping: `3001:3001` → `3001`, `127.0.0.1:3101-3109:3001` → `3101-3109`, `3001` → none. */
function hostSide(mapping: string): string | undefined {
  const parts = mapping.replace(/\/(tcp|udp)$/, '').split(':');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

/** A server block of docker/gateway.conf: the port it listens on and where it sends the requests. */
interface GatewayRoute {
  listen: string | undefined;
  /** `<host>:<port>` of proxy_pass, with a `set $name value;` variable replaced by its value. */
  upstream: string | undefined;
  /** True when the host is a variable, which makes nginx resolve it again per request (new replicas are seen). */
  resolvedPerRequest: boolean;
}

function gatewayRoutes(conf: string): GatewayRoute[] {
  return conf
    .split(/^server\s*\{/m)
    .slice(1)
    .map((block) => {
      const vars = new Map([...block.matchAll(/\bset\s+\$(\w+)\s+([^;\s]+);/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
      const target = /\bproxy_pass\s+http:\/\/([^;\s/]+)/.exec(block)?.[1];
      return {
        listen: /\blisten\s+(\d+);/.exec(block)?.[1],
        upstream: target?.replace(/^\$(\w+)/, (_all, name: string) => vars.get(name) ?? `$${name}`),
        resolvedPerRequest: target?.startsWith('$') ?? false,
      };
    });
}

describe('docker-compose.yml', () => {
  const compose = loadCompose();
  const gatewayConf = fs.readFileSync(path.join(root, 'docker', 'gateway.conf'), 'utf8');

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
        expect(service?.expose?.map(String)).to.deep.equal([String(port)]);
      });

      it('scales (`docker compose up --scale`): no container_name and no fixed host port, so replicas do not collide', () => {
        expect(service?.['container_name'], 'container_name (one container only)').to.equal(undefined);
        for (const mapping of service?.ports ?? []) {
          const host = hostSide(mapping);
          if (host !== undefined) expect(host, `${mapping}: a fixed host port binds once`).to.match(/^\d+-\d+$/);
        }
      });

      it('is reached from the host on its port through the gateway, which spreads requests over its replicas', () => {
        const gateway = compose.services['gateway'];
        expect(gateway?.ports).to.include(`${port}:${port}`);
        expect(gateway?.depends_on?.[name]?.condition).to.equal('service_started');
        const routes = gatewayRoutes(gatewayConf).filter((r) => r.listen === String(port));
        expect(routes, `server blocks listening on ${port}`).to.have.length(1);
        expect(routes[0]?.upstream).to.equal(`${name}:${port}`);
        expect(routes[0]?.resolvedPerRequest, 'proxy_pass through a variable (replicas added later are seen)').to.equal(true);
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
        expect(env['AMQP_URL']).to.match(/^amqp:\/\/([^@]*@)?rabbitmq(:5672)?$/);
        expect(env['QUEUE_TYPE'] ?? 'quorum').to.equal('quorum');
      });

      it('talks to the three nodes of the cluster profile when COMPOSE_AMQP_URL lists them', () => {
        const config = loadConfig(schema, envOf(service!, { COMPOSE_AMQP_URL: clusterAmqpUrl })) as { AMQP_URL: string };
        expect(amqpUrls(config.AMQP_URL).map((u) => new URL(u).hostname)).to.deep.equal(clusterNodes);
      });

      it('is healthy only when /readyz answers, and starts after healthy MongoDB and RabbitMQ', () => {
        expect(text(service?.healthcheck?.test)).to.contain(`127.0.0.1:${port}/readyz`);
        expect(service?.depends_on?.['mongodb']?.condition).to.equal('service_healthy');
        expect(service?.depends_on?.['rabbitmq']?.condition).to.equal('service_healthy');
      });
    });
  }

  it('runs the gateway as nginx with docker/gateway.conf, resolving service names through Docker DNS', () => {
    const gateway = compose.services['gateway']!;
    expect(gateway.image).to.match(/^nginx:/);
    expect(gateway['volumes']).to.include('./docker/gateway.conf:/etc/nginx/conf.d/default.conf:ro');
    // Docker's embedded DNS: one address per replica of the name asked for.
    expect(gatewayConf).to.match(/^resolver 127\.0\.0\.11\b/m);
  });

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

describe('docker-compose.yml, profile cluster', () => {
  const compose = loadCompose();
  const conf = fs.readFileSync(path.join(root, 'docker', 'rabbitmq-cluster.conf'), 'utf8');

  it('adds three RabbitMQ nodes, only with --profile cluster, each on its own host ports', () => {
    const ports: string[] = [];
    for (const name of clusterNodes) {
      const node = compose.services[name];
      expect(node, name).to.not.equal(undefined);
      expect(node?.['profiles'], name).to.deep.equal(['cluster']);
      expect(node?.['hostname'], name).to.equal(name);
      expect(node?.image, name).to.equal(compose.services['rabbitmq']?.image);
      expect(node?.healthcheck, name).to.not.equal(undefined);
      ports.push(...(node?.ports ?? []).map((p) => p.split(':')[0] ?? ''));
    }
    expect(new Set(ports).size, `host ports ${ports.join(', ')}`).to.equal(ports.length);
    expect(ports).to.not.include.members(['5672', '15672']);
    expect(compose.services['rabbitmq']?.['profiles'], 'the single broker runs without a profile').to.equal(undefined);
  });

  it('forms one cluster: every node lists the same three peers, shares one cookie, and nodes 2 and 3 wait for node 1', () => {
    expect(conf).to.match(/^cluster_formation\.peer_discovery_backend = classic_config$/m);
    for (const [i, name] of clusterNodes.entries())
      expect(conf).to.contain(`cluster_formation.classic_config.nodes.${i + 1} = rabbit@${name}`);
    const cookies = clusterNodes.map((name) => envOf(compose.services[name]!)['RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS']);
    expect(new Set(cookies).size).to.equal(1);
    expect(cookies[0]).to.match(/-setcookie \S+/);
    for (const name of clusterNodes) {
      const volumes = (compose.services[name]?.['volumes'] ?? []) as string[];
      expect(volumes, name).to.include('./docker/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro');
    }
    for (const name of clusterNodes.slice(1))
      expect(compose.services[name]?.depends_on?.['rabbitmq-1']?.condition).to.equal('service_healthy');
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs from a slim image of the Active LTS (Node 26) in another', () => {
    expect(stages).to.have.length(2);
    expect(stages[0])
      .to.match(/npm ci/)
      .and.match(/tsc -b/);
    expect(stages[1]).to.match(/^node:26-slim/);
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
