// One trace per saga (DESIGN §4): W3C trace context from the HTTP request through the outbox and every consumer; exported over OTLP when asked.
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** What the outbox row keeps of the work that emitted it, and the AMQP headers carry (W3C Trace Context). */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

let provider: NodeTracerProvider | null = null;

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT (or the traces one): unset, spans are made (so trace context flows) but not exported. */
  otlpEndpoint?: string;
  /** Extra processors, e.g. a test's in-memory exporter. */
  spanProcessors?: SpanProcessor[];
  /** `service.name` of the process's resource. */
  serviceName: string;
}

/**
 * Registers the process's tracer provider once (later calls change nothing and return false): the W3C propagator and
 * the async-local context come with the Node SDK. The OTLP exporter reads the standard OTEL_* variables itself.
 */
export function startTracing(options: TracingOptions): boolean {
  if (provider !== null) return false;
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
    spanProcessors: processors,
  });
  provider.register();
  return true;
}

/** Flushes and ends tracing (at shutdown, so the last spans are exported). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = null;
  if (!p) return;
  await p.shutdown();
  // Unregistered, so a later startTracing (a test's in-memory exporter) can register again.
  trace.disable();
  propagation.disable();
  context.disable();
}

const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key] ?? carrier[key.toLowerCase()];
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  },
};

const headerSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/** The context a carrier (HTTP or AMQP headers, an outbox row's headers) continues: only its trace keys are read. */
export function contextFrom(carrier: object | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier as Record<string, unknown>, headerGetter) : context.active();
}

/** The trace context of `ctx` (default: the active one) as W3C headers; empty when no span is active. */
export function traceContextOf(ctx: Context = context.active()): TraceContext {
  const carrier: Record<string, unknown> = {};
  propagation.inject(ctx, carrier, headerSetter);
  const out: TraceContext = {};
  if (typeof carrier.traceparent === 'string') out.traceparent = carrier.traceparent;
  if (typeof carrier.tracestate === 'string') out.tracestate = carrier.tracestate;
  return out;
}

export interface SpanOptions {
  kind: 'server' | 'producer' | 'consumer' | 'internal' | 'client';
  /** The context to continue (default: the active one). */
  parent?: Context;
  attributes?: Record<string, string | number | boolean | undefined>;
}

const kinds = {
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
} as const;

/** A span ended by hand: `context` is its own; `traceContext()` gives it as W3C headers; `end(error)` marks a failure. */
export interface ManualSpan {
  context: Context;
  traceContext(): TraceContext;
  end(error?: string): void;
}

/** The one place a span is opened: its attributes (undefined ones left out), kind and parent. */
function openSpan(tracerName: string, name: string, options: SpanOptions): { span: Span; ctx: Context } {
  const attributes: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(options.attributes ?? {})) if (v !== undefined) attributes[k] = v;
  const parent = options.parent ?? context.active();
  const span = trace.getTracer(tracerName).startSpan(name, { kind: kinds[options.kind], attributes }, parent);
  return { span, ctx: trace.setSpan(parent, span) };
}

export function startSpan(tracerName: string, name: string, options: SpanOptions): ManualSpan {
  const { span, ctx } = openSpan(tracerName, name, options);
  return {
    context: ctx,
    traceContext: () => traceContextOf(ctx),
    end: (error) => {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

/** Runs `fn` with `ctx` as the active context (its async continuations keep it). */
export function runInContext<R>(ctx: Context, fn: () => R): R {
  return context.with(ctx, fn);
}

/** Runs `work` in a new span of `tracerName` (the service), ended when `work` settles; a failure marks it as an error. */
export async function inSpan<R>(tracerName: string, name: string, options: SpanOptions, work: (span: Span) => Promise<R>): Promise<R> {
  const { span, ctx } = openSpan(tracerName, name, options);
  try {
    return await context.with(ctx, () => work(span));
  } catch (err) {
    span.recordException(err instanceof Error ? err : new Error(String(err)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
