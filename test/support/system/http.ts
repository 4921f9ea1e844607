// A small JSON-over-HTTP client for the scripts, with lenient zod schemas of the API shapes of DESIGN §3 and §9.
import { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${url} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.name = 'HttpError';
  }
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Sends one request; the body is parsed as JSON when the answer says it is JSON, else kept as text. */
export async function request(method: string, url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let payload: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(options.body);
  }
  const res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = text.length > 0 && type.includes('json') ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body };
}

/** Sends a request that must answer `expected` (any 2xx when omitted) and parses the body with `schema`. */
export async function call<S extends z.ZodType>(
  schema: S,
  method: string,
  url: string,
  options: RequestOptions & { expected?: number } = {},
): Promise<z.infer<S>> {
  const res = await request(method, url, options);
  const ok = options.expected === undefined ? res.status >= 200 && res.status < 300 : res.status === options.expected;
  if (!ok) throw new HttpError(method, url, res.status, res.body);
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${method} ${url}: the answer does not match the documented shape (${issues})`);
  }
  return parsed.data as z.infer<S>;
}

export const getJson = <S extends z.ZodType>(schema: S, url: string) => call(schema, 'GET', url, { expected: 200 });

// The shapes below accept extra fields and absent optional ones (null or missing): they check what the scripts read.
const point = z.object({ lat: z.number(), lng: z.number() });
export const moneySchema = z.object({ amount: z.number(), currency: z.string() });
export type MoneyView = z.infer<typeof moneySchema>;
const personRef = z.object({ id: z.string(), name: z.string().optional(), email: z.string().optional() }).loose();

export const rideStatuses = ['REQUESTED', 'DRIVER_ASSIGNED', 'CONFIRMED', 'COMPLETED', 'REJECTED', 'CANCELLED'] as const;
export type RideStatus = (typeof rideStatuses)[number];

export const riderSchema = z.object({ id: z.string(), name: z.string(), email: z.string(), status: z.string() }).loose();
export type RiderView = z.infer<typeof riderSchema>;

export const rideSchema = z
  .object({
    id: z.string(),
    riderId: z.string(),
    status: z.enum(rideStatuses),
    pickup: point,
    dropoff: point,
    driver: z.union([personRef, z.string()]).nullish(),
    fare: moneySchema.nullish(),
    reason: z.string().nullish(),
    history: z.array(z.object({ status: z.string(), at: z.string(), cause: z.string().nullish() }).loose()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .loose();
export type RideView = z.infer<typeof rideSchema>;

export const rideAcceptedSchema = z.object({ rideId: z.string(), status: z.string() }).loose();

export const driverStatuses = ['AVAILABLE', 'RESERVED', 'ON_TRIP', 'OFFLINE'] as const;
export const driverSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    status: z.enum(driverStatuses),
    location: point,
    currentRideId: z.string().nullish(),
  })
  .loose();
export type DriverView = z.infer<typeof driverSchema>;

export const paymentSchema = z
  .object({
    id: z.string(),
    rideId: z.string(),
    status: z.enum(['AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED']),
    amount: z.number(),
    currency: z.string(),
  })
  .loose();
export type PaymentView = z.infer<typeof paymentSchema>;

export const notificationSchema = z
  .object({
    id: z.string(),
    rideId: z.string(),
    recipient: z.string(),
    template: z.string(),
    status: z.enum(['PENDING', 'SENT', 'FAILED']),
  })
  .loose();
export type NotificationView = z.infer<typeof notificationSchema>;

export const ratingSchema = z.object({ rideId: z.string(), stars: z.number(), comment: z.string().nullish(), ratedAt: z.string() }).loose();

const moneyOrAmount = z.union([moneySchema, z.number()]).nullish();

export const riderTripsSchema = z
  .object({
    riderId: z.string(),
    summary: z.object({
      requested: z.number(),
      completed: z.number(),
      cancelled: z.number(),
      rejected: z.number(),
      spent: moneySchema,
      lastTripAt: z.string().nullable(),
    }),
    trips: z.array(
      z
        .object({
          rideId: z.string(),
          status: z.string(),
          requestedAt: z.string(),
          endedAt: z.string().nullish(),
          driverId: z.string().nullish(),
          fare: moneyOrAmount,
          paid: moneyOrAmount,
          rating: z.number().nullish(),
        })
        .loose(),
    ),
    next: z.string().nullish(),
  })
  .loose();
export type RiderTripsView = z.infer<typeof riderTripsSchema>;

export const driverTripsSchema = z
  .object({
    driverId: z.string(),
    summary: z.object({
      completed: z.number(),
      earnings: moneySchema,
      rating: z.object({ average: z.number(), count: z.number() }),
      lastTripAt: z.string().nullable(),
    }),
    trips: z.array(
      z
        .object({
          rideId: z.string(),
          status: z.string(),
          assignedAt: z.string(),
          endedAt: z.string().nullish(),
          earned: moneyOrAmount,
          rating: z.number().nullish(),
        })
        .loose(),
    ),
    next: z.string().nullish(),
  })
  .loose();
export type DriverTripsView = z.infer<typeof driverTripsSchema>;

/** A trip's money, whether the service answers `{amount, currency}` or a bare amount. */
export function amountOf(value: MoneyView | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.amount;
}

/** The driver id of a ride, whether `driver` is a person reference or a bare id. */
export function driverIdOf(ride: RideView): string | undefined {
  if (ride.driver === null || ride.driver === undefined) return undefined;
  return typeof ride.driver === 'string' ? ride.driver : ride.driver.id;
}
