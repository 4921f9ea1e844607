// The express app factory every service uses: body rules, request ids, health/readiness/metrics, problem+json.
import { randomUUID } from 'node:crypto';
import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import { AppError } from '../errors';
import { withContext, type Logger } from '../logger';
import type { Metrics } from '../metrics';
import { contextFrom, runInContext, startSpan } from '../tracing';
import { openApiRoutes } from './docs';
import { buildOpenApiDocument, type ServiceApi } from './openapi';
import { problemHandler, sendProblem, toProblem } from './problem';

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: Metrics;
  /** Resolves true when store and broker are connected and the topology is declared. */
  readiness: () => Promise<boolean>;
  /** Why the service is not ready, when it knows something an operator must fix (shown by /readyz). */
  notReadyReason?: () => string | undefined;
  mount: (router: Router) => void;
  /** The routes `mount` adds, described from their zod schemas: served as GET /openapi.json and GET /docs. */
  api?: ServiceApi;
  bodyLimit?: string;
}

/** Health, readiness and metrics are polled all the time and belong to no saga: no spans for them (nor for the docs). */
const PROBES = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);
const isProbe = (path: string) => PROBES.has(path) || path === '/docs' || path.startsWith('/docs/');

const hasBody = (req: Request) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

export function createHttpApp(options: HttpAppOptions): Express {
  // Built first: a route description that does not match its schemas fails at startup, not at the first GET.
  const document = buildOpenApiDocument(options.service, options.api);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // express 5 defaults to the "simple" parser, which turns `?riderId[x]=1` into an ignored key `riderId[x]`;
  // the "extended" one (qs, express 4's default) makes it an object the query schemas refuse with a 400.
  app.set('query parser', 'extended');

  // Every request is a span: a `traceparent` sent by the caller is continued, else the trace starts here (DESIGN §4).
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isProbe(req.path)) return next();
    const span = startSpan(options.service, `${req.method} ${req.path}`, {
      kind: 'server',
      parent: contextFrom(req.headers),
      attributes: { 'http.request.method': req.method, 'url.path': req.path },
    });
    res.on('finish', () => span.end(res.statusCode >= 500 ? `status ${res.statusCode}` : undefined));
    runInContext(span.context, next);
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    res.setHeader('x-request-id', requestId);
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.service });
  });
  // express 5 hands a rejected handler promise to the error handler: route handlers are plain async functions.
  app.get('/readyz', async (_req, res) => {
    const ready = await options.readiness();
    const reason = ready ? undefined : options.notReadyReason?.();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', service: options.service, ...(reason ? { reason } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  app.use(openApiRoutes(document));

  // A body must be JSON: anything else is 415 before it is parsed (DESIGN §3).
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (hasBody(req) && !req.is('application/json') && !req.is('application/*+json')) {
      sendProblem(
        res,
        toProblem(
          new AppError('unsupported-media-type', `content type ${req.header('content-type') ?? '(none)'} is not application/json`),
          req.originalUrl,
        ),
      );
      return;
    }
    next();
  });
  app.use(express.json({ limit: options.bodyLimit ?? '16kb', type: ['application/json', 'application/*+json'] }));
  // body-parser 2 leaves req.body undefined without a body; validating {} names each missing field in errors[].
  app.use((req: Request, _res: Response, next: NextFunction) => {
    req.body ??= {};
    next();
  });

  const router = Router();
  options.mount(router);
  app.use(router);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new AppError('not-found', `no route for ${req.method} ${req.path}`));
  });
  app.use(problemHandler(withContext(options.logger, { component: 'http' })));
  return app;
}
