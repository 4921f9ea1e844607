// Checks of a served OpenAPI document: valid OpenAPI 3.1 (a real validator), the routes an express app really mounts,
// and answers validated against the document's own response schemas (ajv, JSON Schema 2020-12).
import { validate } from '@readme/openapi-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import { MemoryStore, type ServiceDefinition } from '@ridehail/shared';
import { routeApp } from '@ridehail/shared/testing';

export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> } & Record<string, unknown>>>;
  components: Record<string, Record<string, unknown>>;
}

/** Validates with @readme/openapi-parser (the OpenAPI 3.1 schema plus its own rules); returns the errors, none when valid. */
export async function openApiErrors(doc: unknown): Promise<string[]> {
  // The parser dereferences in place: give it a copy.
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0], { resolve: { external: false } });
  if (result.valid) return [];
  return result.errors.map((e) => e.message);
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `GET /rides/{id}` for every route an express 5 app mounts (nested routers included), as the document writes paths. */
export function mountedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths)
          for (const [method, on] of Object.entries(layer.route.methods))
            if (on && method !== '_all') found.push(`${method.toUpperCase()} ${path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found.sort();
}

/** `GET /rides/{id}` for every operation of the document. */
export function documentedRoutes(doc: OpenApiDoc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export interface ResponseLike {
  status: number;
  contentType: string | null;
  body: unknown;
  /** Response headers (names in any case); when given, the declared ones are checked too. */
  headers?: Record<string, string>;
}

type Json = Record<string, unknown>;

/**
 * Validates real answers against a served document: finds the operation's response for the status (or `default`),
 * follows a `$ref` to components.responses, checks the media type and the declared headers, and validates the body
 * with ajv (draft 2020-12, formats on) against the schema at that place of the document, so every `$ref` resolves
 * inside the document itself.
 */
export class ResponseValidator {
  private static readonly ID = 'https://ridehail.example/openapi.json';
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDoc) {
    // strict off: OpenAPI adds keywords of its own (e.g. `example`), which are annotations, not assertions.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...structuredClone(doc), $id: ResponseValidator.ID });
  }

  /** The problems of `response` for `method path` (path as documented, e.g. `/rides/{id}`); none when it conforms. */
  check(method: string, path: string, response: ResponseLike): string[] {
    const where = `${method} ${path} ${response.status}`;
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${method} ${path} is not in the document`];
    const key = String(response.status) in operation.responses ? String(response.status) : 'default';
    let pointer = `#/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${key}`;
    let declared = operation.responses[key] as Json | undefined;
    if (!declared) return [`${where}: the document declares no such answer (nor a default)`];
    if (typeof declared['$ref'] === 'string') {
      pointer = declared['$ref'];
      declared = this.doc.components['responses']?.[pointer.split('/').pop() ?? ''] as Json | undefined;
      if (!declared) return [`${pointer} does not resolve`];
    }
    return [
      ...(response.headers ? this.checkHeaders(where, pointer, declared, response.headers) : []),
      ...this.checkBody(where, pointer, declared, response),
    ];
  }

  private validator(pointer: string): ValidateFunction {
    let validateFn = this.compiled.get(pointer);
    if (!validateFn) {
      validateFn = this.ajv.compile({ $ref: `${ResponseValidator.ID}${pointer}` });
      this.compiled.set(pointer, validateFn);
    }
    return validateFn;
  }

  private static errorsOf(where: string, validateFn: ValidateFunction): string[] {
    return (validateFn.errors ?? []).map((e) => `${where}: ${e.instancePath || '(value)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }

  /** Each declared header: present when required, and its value valid against its schema. */
  private checkHeaders(where: string, pointer: string, declared: Json, headers: Record<string, string>): string[] {
    const sent = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const problems: string[] = [];
    for (const [name, spec] of Object.entries((declared['headers'] ?? {}) as Record<string, Json>)) {
      let headerPointer = `${pointer}/headers/${escapePointer(name)}`;
      let header = spec;
      if (typeof spec['$ref'] === 'string') {
        headerPointer = spec['$ref'];
        header = (this.doc.components['headers']?.[headerPointer.split('/').pop() ?? ''] ?? {}) as Json;
      }
      const value = sent.get(name.toLowerCase());
      if (value === undefined) {
        if (header['required'] === true) problems.push(`${where}: header ${name} is required but missing`);
        continue;
      }
      const validateFn = this.validator(`${headerPointer}/schema`);
      if (!validateFn(value)) problems.push(...ResponseValidator.errorsOf(`${where} header ${name}`, validateFn));
    }
    return problems;
  }

  private checkBody(where: string, pointer: string, declared: Json, response: ResponseLike): string[] {
    const content = declared['content'] as Json | undefined;
    if (!content) return response.body === undefined || response.body === '' ? [] : [`${where}: the document declares no body`];
    const mediaType = (response.contentType ?? '').split(';')[0]?.trim() ?? '';
    if (!(mediaType in content))
      return [`${where}: content type ${mediaType || '(none)'} is not one of ${Object.keys(content).join(', ')}`];
    const validateFn = this.validator(`${pointer}/content/${escapePointer(mediaType)}/schema`);
    return validateFn(response.body) ? [] : ResponseValidator.errorsOf(`${where} body`, validateFn);
  }
}

/** A service's HTTP app as the runtime builds it (its routes and their description), over an in-memory store. */
export function definitionApp(def: ServiceDefinition): Express {
  return routeApp(def, new MemoryStore());
}

/** The checks every service's document passes (its unit test): valid 3.1, exactly its mounted routes, problems everywhere, docs served. */
export function describeServiceDocument(def: ServiceDefinition, ownRoutes: string[]): void {
  describe(`${def.name}: GET /openapi.json and GET /docs`, () => {
    const app = definitionApp(def);
    let doc: OpenApiDoc;

    before(async () => {
      const res = await request(app)
        .get('/openapi.json')
        .expect(200)
        .expect('content-type', /^application\/json/);
      doc = res.body as OpenApiDoc;
    });

    it('is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
      expect(doc.openapi).to.match(/^3\.1\.\d+$/);
      expect(doc.info.title).to.equal(def.name);
      expect(await openApiErrors(doc)).to.deep.equal([]);
      // The validator does say no: a path parameter the operation does not declare is an error.
      const broken = structuredClone(doc);
      const [firstPath, firstItem] = Object.entries(broken.paths)[0] ?? [];
      if (firstPath && firstItem) broken.paths[`${firstPath}/{undeclared}`] = firstItem;
      expect(await openApiErrors(broken)).to.not.be.empty;
    });

    it('lists exactly the routes the app mounts: the service’s own and the probes', () => {
      const probes = ['GET /docs', 'GET /healthz', 'GET /metrics', 'GET /openapi.json', 'GET /readyz'];
      expect(documentedRoutes(doc)).to.deep.equal([...ownRoutes, ...probes].sort());
      // The app's router holds the same: a route added without its description (or the other way round) fails here.
      expect(mountedRoutes(app).filter((r) => !r.startsWith('GET /docs/'))).to.deep.equal(documentedRoutes(doc));
    });

    it('answers problem+json with the shared Problem component on every route, and names its schemas', () => {
      const problem = doc.components['responses']?.['InternalError'] as { content: Record<string, { schema: unknown }> };
      expect(problem.content['application/problem+json']?.schema).to.deep.equal({ $ref: '#/components/schemas/Problem' });
      expect(doc.components['schemas']).to.have.property('Problem');
      for (const [path, item] of Object.entries(doc.paths))
        for (const [method, operation] of Object.entries(item)) {
          expect(operation.responses, `${method} ${path}`).to.have.property('default');
          if (!path.startsWith('/') || ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs'].includes(path)) continue;
          expect(operation.responses, `${method} ${path}`).to.have.property('400');
          if (path.includes('{')) expect(operation.responses, `${method} ${path}`).to.have.property('404');
        }
    });

    it('serves a browsable reference from swagger-ui-dist, with no CDN', async () => {
      const page = await request(app)
        .get('/docs')
        .expect(200)
        .expect('content-type', /^text\/html/);
      const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(sources).to.not.be.empty;
      for (const source of sources) {
        expect(source, 'served by the service itself').to.match(/^\/docs\//);
        await request(app).get(source).expect(200);
      }
      const init = await request(app).get('/docs/init.js').expect(200);
      expect(init.text).to.contain("url: '/openapi.json'");
    });
  });
}
