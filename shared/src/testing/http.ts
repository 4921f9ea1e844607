// A service's routes in the express app every service runs, over a given store, for supertest.
import type { Express } from 'express';
import { createHttpApp } from '../http/app';
import type { ServiceDefinition } from '../http/types';
import { createMetrics } from '../metrics';
import type { Store } from '../store/port';
import { silentLogger } from './builders';

/** What routeApp needs of a service: `definition(config)` gives it, or a test that mounts the routes with its own deps. */
export type RoutedService = Pick<ServiceDefinition, 'name' | 'routes'> & Partial<Pick<ServiceDefinition, 'api' | 'extraReadiness'>>;

/** The service's HTTP app as the runtime builds it (problems, validation, docs), ready as soon as its own check says so. */
export function routeApp(service: RoutedService, store: Store): Express {
  const logger = silentLogger(service.name);
  return createHttpApp({
    service: service.name,
    logger,
    metrics: createMetrics(service.name),
    readiness: service.extraReadiness ?? (async () => true),
    mount: (router) => service.routes(router, { store, logger, service: service.name }),
    api: service.api,
  });
}
