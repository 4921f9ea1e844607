// The message envelope of DESIGN §4: one zod schema checked on both sides, and typed constructors.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { eventCatalogue, type EventType, type PayloadOf } from './events';

export const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  source: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).optional(),
  // zod 4 makes a z.unknown() key required; a missing payload is still the payload schema's to refuse (with `partial`).
  payload: z.unknown().optional(),
});

export type RawEnvelope = z.infer<typeof envelopeSchema>;

export interface Envelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  source: string;
  correlationId: string;
  causationId?: string;
  payload: PayloadOf<T>;
}

/** A union of every typed envelope, so a `switch (env.type)` narrows the payload. */
export type AnyEnvelope = { [T in EventType]: Envelope<T> }[EventType];

export interface NewEventInput<T extends EventType> {
  type: T;
  payload: PayloadOf<T>;
  source: string;
  correlationId: string;
  causationId?: string;
  id?: string;
  occurredAt?: Date;
}

/** Builds an envelope, validating the payload against the catalogue so a producer can never emit garbage. */
export function createEnvelope<T extends EventType>(input: NewEventInput<T>): Envelope<T> {
  const entry = eventCatalogue[input.type];
  const payload = entry.schema.parse(input.payload) as PayloadOf<T>;
  const env: Envelope<T> = {
    id: input.id ?? randomUUID(),
    type: input.type,
    version: entry.version,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    source: input.source,
    correlationId: input.correlationId,
    payload,
  };
  if (input.causationId !== undefined) env.causationId = input.causationId;
  return env;
}

export type ParseResult = { ok: true; envelope: AnyEnvelope } | { ok: false; reason: string; partial?: Partial<RawEnvelope> };

/**
 * Parses and validates a raw message body: the envelope first, then the payload for its type and version. A payload of
 * an older version that the catalogue still reads is upcast here, the one place, to the current shape.
 */
export function parseEnvelope(body: Buffer | string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `body is not JSON: ${(err as Error).message}` };
  }
  const env = envelopeSchema.safeParse(json);
  if (!env.success) return { ok: false, reason: `invalid envelope: ${formatZodIssues(env.error)}` };
  const raw = env.data;
  if (!(raw.type in eventCatalogue)) return { ok: false, reason: `unknown event type ${raw.type}`, partial: raw };
  const type = raw.type as EventType;
  const entry = eventCatalogue[type];
  let current: unknown = raw.payload;
  if (raw.version !== entry.version) {
    const older: z.ZodType | undefined = entry.older[raw.version];
    if (older === undefined) {
      const readable = [...Object.keys(entry.older).map(Number), entry.version].sort((a, b) => a - b);
      const reads = `version${readable.length > 1 ? 's' : ''} ${readable.join(', ')}`;
      return { ok: false, reason: `unsupported version ${raw.version} of ${type} (this build reads ${reads})`, partial: raw };
    }
    const upcast = older.safeParse(raw.payload);
    if (!upcast.success) {
      return { ok: false, reason: `invalid ${type} v${raw.version} payload: ${formatZodIssues(upcast.error)}`, partial: raw };
    }
    current = upcast.data;
  }
  const payload = entry.schema.safeParse(current);
  if (!payload.success) {
    return { ok: false, reason: `invalid ${type} payload: ${formatZodIssues(payload.error)}`, partial: raw };
  }
  // An upcast envelope says the version of the shape it now carries: handlers see one shape per type, whatever was sent.
  return { ok: true, envelope: { ...raw, version: entry.version, payload: payload.data } as AnyEnvelope };
}

export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
