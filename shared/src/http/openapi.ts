// The OpenAPI 3.1 document of a service (DESIGN §3), generated with zod's own z.toJSONSchema from the very schemas that
// validate its requests (params, query, headers, bodies) and describe its answers; every route also names its problems.
import { z } from 'zod';
import type { Problem } from './problem';
import type { ValidationIssue } from './validate';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A schema of one part of a request that is a set of named values (path params, query string, headers). */
export type ParameterSchema = z.ZodObject;

export interface HeaderDoc {
  description: string;
  schema: z.ZodType;
  required?: boolean;
}

export interface ResponseDoc {
  description: string;
  /** The body's schema (as output: what the service sends); a named component if it is in the service's `schemas`. */
  body?: z.ZodType;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  headers?: Record<string, HeaderDoc>;
}

/** One route of a service, described from the zod schemas its handler parses with. */
export interface RouteDoc {
  method: HttpMethod;
  /** As mounted on express (`/rides/:id`); the document writes `/rides/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag?: string;
  params?: ParameterSchema;
  query?: ParameterSchema;
  headers?: ParameterSchema;
  body?: z.ZodType;
  /** The successful answers, by status. */
  responses: Partial<Record<number, ResponseDoc>>;
  /**
   * The problems this route may answer besides those every route may (400 for a malformed request, 404 when the path
   * has an id, 413 and 415 when it takes a body, and 500 as `default`).
   */
  problems?: number[];
}

/** What a service passes to the app factory: its routes and the response shapes to show as named components. */
export interface ServiceApi {
  description?: string;
  version?: string;
  tags?: Array<{ name: string; description: string }>;
  routes: RouteDoc[];
  /** Response body schemas shown under components.schemas by name (a response using the same schema refers to it). */
  schemas?: Record<string, z.ZodType>;
}

// ---- the shapes every service answers with --------------------------------------------------------------------------

export const validationIssueSchema = z
  .object({
    location: z.enum(['body', 'query', 'params', 'headers']),
    path: z.string().describe('dotted path of the offending field within its location; empty for the whole location'),
    message: z.string(),
  })
  .describe('One thing wrong with the request.');

/** RFC 9457 problem details, as http/problem.ts writes them. */
export const problemSchema = z
  .object({
    type: z.string().describe('a URI naming the kind of problem, e.g. https://ridehail.example/problems/validation'),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    instance: z.string().optional().describe('the request path that got this answer'),
    errors: z.array(validationIssueSchema).optional().describe('what was wrong with the request (validation problems only)'),
  })
  .describe('An error, as application/problem+json (RFC 9457).');

export const healthSchema = z.object({ status: z.literal('ok'), service: z.string() });
export const readinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  service: z.string(),
  reason: z.string().optional().describe('what an operator must fix, when the service knows (e.g. a conflicting queue)'),
});
const metricsTextSchema = z.string().describe('Prometheus text exposition format');
const docsPageSchema = z.string().describe('an HTML page');
const documentSchema = z.record(z.string(), z.unknown()).describe('an OpenAPI 3.1 document');

// The documented shapes and the types the code writes must not drift apart: each must be assignable to the other.
/** True when A and B are assignable both ways: a documented schema and the view a handler writes cannot drift apart. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _problemShape: Same<z.output<typeof problemSchema>, Problem> = true;
const _issueShape: Same<z.output<typeof validationIssueSchema>, ValidationIssue> = true;
void _problemShape;
void _issueShape;

// ---- the generator ---------------------------------------------------------------------------------------------------

const PROBLEM_JSON = 'application/problem+json';
const COMPONENT = (id: string) => `#/components/schemas/${id}`;

const problemResponses: Record<string, { name: string; description: string }> = {
  '400': { name: 'BadRequest', description: 'The request is malformed or invalid (its path, query, headers or body).' },
  '403': { name: 'Forbidden', description: 'The request is understood but refused.' },
  '404': { name: 'NotFound', description: 'No such resource (or no such route).' },
  '409': { name: 'Conflict', description: 'The resource is in a state that does not allow this.' },
  '413': { name: 'ContentTooLarge', description: 'The body is over the size limit.' },
  '415': { name: 'UnsupportedMediaType', description: 'The body is not JSON.' },
  '503': { name: 'ServiceUnavailable', description: 'The service cannot answer right now.' },
  default: { name: 'InternalError', description: 'An unexpected error (never a stack trace).' },
};

type JsonObject = Record<string, unknown>;

/** `/rides/:id` → `/rides/{id}`, and the names of its parameters. */
export function openApiPath(expressPath: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = expressPath.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

/** `idempotency-key` → `Idempotency-Key` (header names are case-insensitive; the document shows them as usually written). */
function headerName(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function withoutDialect(schema: JsonObject): JsonObject {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** A request part as the client writes it (io: input): defaults are optional, coercions show their target type. */
function inputSchema(schema: z.ZodType): JsonObject {
  // A registry of its own: nothing is pulled out as a $def, so a request schema is always complete where it stands.
  return withoutDialect(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', metadata: z.registry() }) as JsonObject);
}

function parametersOf(where: 'path' | 'query' | 'header', schema: ParameterSchema): JsonObject[] {
  const json = inputSchema(schema);
  const properties = (json['properties'] ?? {}) as Record<string, JsonObject>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property;
    const parameter: JsonObject = {
      name: where === 'header' ? headerName(name) : name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
    };
    if (typeof description === 'string') parameter['description'] = description;
    return parameter;
  });
}

function problemRef(status: string): JsonObject {
  const known = problemResponses[status];
  if (!known) throw new Error(`no problem response is described for status ${status}`);
  return { $ref: `#/components/responses/${known.name}` };
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonObject>; responses: Record<string, JsonObject>; headers: Record<string, JsonObject> };
  [key: string]: unknown;
}

/** The routes the app factory adds to every service. */
function probeRoutes(): RouteDoc[] {
  return [
    {
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Process up',
      tag: 'operations',
      responses: { 200: { description: 'The process is up.', body: healthSchema } },
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      summary: 'Store and broker connected',
      tag: 'operations',
      responses: {
        200: { description: 'Store and broker connected, topology declared.', body: readinessSchema },
        503: { description: 'Not ready (store or broker down).', body: readinessSchema },
      },
    },
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      description: 'Messages published / consumed / retried / dead-lettered, outbox pending and oldest-pending age, handler latency.',
      tag: 'operations',
      responses: { 200: { description: 'Prometheus text exposition format.', body: metricsTextSchema, contentType: 'text/plain' } },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tag: 'operations',
      responses: {
        200: { description: 'The OpenAPI 3.1 document of this service.', body: documentSchema },
      },
    },
    {
      method: 'get',
      path: '/docs',
      operationId: 'docs',
      summary: 'A browsable reference of this document',
      tag: 'operations',
      responses: {
        200: { description: 'An HTML page (Swagger UI, served by the service).', body: docsPageSchema, contentType: 'text/html' },
      },
    },
  ];
}

/** Builds the OpenAPI 3.1 document of `service`: its own routes (from `api`) and the probes every service has. */
export function buildOpenApiDocument(service: string, api: ServiceApi = { routes: [] }): OpenApiDocument {
  const routes = [...api.routes, ...probeRoutes()];

  // Response bodies are named components, converted together (io: output) so shared shapes are $refs, not copies.
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<z.ZodType, string>();
  const name = (schema: z.ZodType, id: string) => {
    if (idOf.has(schema)) return;
    if ([...idOf.values()].includes(id)) throw new Error(`two schemas named ${id} in the ${service} document`);
    idOf.set(schema, id);
    registry.add(schema, { id });
  };
  name(problemSchema, 'Problem');
  name(validationIssueSchema, 'ValidationIssue');
  name(healthSchema, 'Health');
  name(readinessSchema, 'Readiness');
  name(metricsTextSchema, 'MetricsText');
  name(documentSchema, 'OpenApiDocument');
  name(docsPageSchema, 'DocsPage');
  for (const [id, schema] of Object.entries(api.schemas ?? {})) name(schema, id);
  for (const route of routes)
    for (const [status, response] of Object.entries(route.responses))
      if (response?.body && !idOf.has(response.body))
        name(response.body, `${route.operationId[0]?.toUpperCase()}${route.operationId.slice(1)}${status}`);
  const converted = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'output', uri: COMPONENT }) as {
    schemas: Record<string, JsonObject>;
  };
  const schemas = Object.fromEntries(Object.entries(converted.schemas).map(([id, s]) => [id, withoutDialect(s)]));

  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    const { path, params } = openApiPath(route.path);
    if (operationIds.has(route.operationId)) throw new Error(`duplicate operationId ${route.operationId}`);
    operationIds.add(route.operationId);
    const declared = Object.keys(route.params?.shape ?? {});
    if (params.join() !== declared.join())
      throw new Error(
        `${route.method.toUpperCase()} ${route.path}: path parameters [${params.join()}] but params schema [${declared.join()}]`,
      );

    const parameters = [
      ...(route.params ? parametersOf('path', route.params) : []),
      ...(route.query ? parametersOf('query', route.query) : []),
      ...(route.headers ? parametersOf('header', route.headers) : []),
    ];
    const responses: Record<string, JsonObject> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      if (!response) continue;
      const out: JsonObject = { description: response.description };
      const headers: Record<string, JsonObject> = { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } };
      for (const [header, doc] of Object.entries(response.headers ?? {})) {
        headers[header] = {
          description: doc.description,
          required: doc.required ?? false,
          schema: withoutDialect(z.toJSONSchema(doc.schema) as JsonObject),
        };
      }
      out['headers'] = headers;
      if (response.body) {
        const id = idOf.get(response.body) as string;
        out['content'] = { [response.contentType ?? 'application/json']: { schema: { $ref: COMPONENT(id) } } };
      }
      responses[status] = out;
    }
    const isProbe = route.tag === 'operations';
    const problems = new Set<string>(isProbe ? [] : ['400']);
    if (params.length > 0) problems.add('404');
    if (route.body) {
      problems.add('413');
      problems.add('415');
    }
    for (const status of route.problems ?? []) problems.add(String(status));
    for (const status of [...problems].sort()) responses[status] ??= problemRef(status);
    responses['default'] = problemRef('default');

    const operation: JsonObject = { operationId: route.operationId, summary: route.summary };
    if (route.description) operation['description'] = route.description;
    if (route.tag) operation['tags'] = [route.tag];
    if (parameters.length > 0) operation['parameters'] = parameters;
    if (route.body) operation['requestBody'] = { required: true, content: { 'application/json': { schema: inputSchema(route.body) } } };
    operation['responses'] = responses;
    (paths[path] ??= {})[route.method] = operation;
  }

  const responses = Object.fromEntries(
    Object.values(problemResponses).map(({ name: id, description }) => [
      id,
      {
        description,
        headers: { 'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' } },
        content: { [PROBLEM_JSON]: { schema: { $ref: COMPONENT('Problem') } } },
      },
    ]),
  );
  const tags = [
    ...(api.tags ?? []),
    { name: 'operations', description: 'Health, readiness, metrics and this document (every service has them).' },
  ];
  const info: OpenApiDocument['info'] = { title: service, version: api.version ?? '0.1.0' };
  if (api.description) info.description = api.description;
  return {
    openapi: '3.1.1',
    info,
    tags,
    paths,
    components: {
      schemas,
      responses,
      headers: {
        'X-Request-Id': {
          description: 'The request id (the one sent, when it is 1-128 word characters, dots, colons or dashes; else a new one).',
          required: true,
          schema: { type: 'string' },
        },
      },
    },
  };
}
