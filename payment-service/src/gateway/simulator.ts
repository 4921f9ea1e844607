// The payment gateway simulator of DESIGN §3: test cards that authorize, decline, or fail transiently twice.
import { createHash } from 'node:crypto';
import type { GatewayAuthorization } from '../domain/payment';
import { TransientGatewayError, type AuthorizeRequest, type GatewayRef, type PaymentGateway } from './gateway';

export const testCards = {
  visa: 'pm_card_visa',
  declined: 'pm_card_declined',
  flaky: 'pm_card_flaky',
} as const;

export type SimulatedStatus = 'authorized' | 'declined' | 'voided' | 'captured';

interface SimulatedRecord {
  status: SimulatedStatus;
  result: GatewayAuthorization;
  capturedAt?: string;
}

/** One authorization the simulated processor really made (not one answered again from its idempotency key). */
export interface AuthorizationMade {
  idempotencyKey: string;
  paymentId: string;
  rideId: string;
  amount: number;
  currency: string;
  authorizationId: string;
}

export interface SimulatorOptions {
  /** How many first attempts of `pm_card_flaky` fail (default 2). */
  flakyFailures?: number;
  now?: () => Date;
  /**
   * Told of every authorization really made. Each payment-service process has its own simulator, whereas a real
   * gateway is shared by all replicas: the service logs each one so that a test can sum them over the replicas.
   */
  onAuthorized?: (made: AuthorizationMade) => void;
}

/**
 * Answers from the card alone (and, for the flaky card, the delivery attempt), so a restarted payment-service gets the
 * same answers as before: the simulated processor "remembers" authorizations the way a real one would.
 */
export class SimulatedGateway implements PaymentGateway {
  private readonly records = new Map<string, SimulatedRecord>();
  /** Authorizations really made, by idempotency key: more than one for a key would be a double charge. */
  private readonly made = new Map<string, number>();
  private readonly byKey = new Map<string, GatewayAuthorization>();
  private readonly flakyFailures: number;
  private readonly now: () => Date;
  private readonly onAuthorized: ((made: AuthorizationMade) => void) | undefined;
  /** Every call, in order, for tests and the demo's timeline. */
  readonly calls: Array<{ op: 'authorize' | 'void' | 'capture'; rideId: string; outcome: string }> = [];

  constructor(options: SimulatorOptions = {}) {
    this.flakyFailures = options.flakyFailures ?? 2;
    this.now = options.now ?? (() => new Date());
    this.onAuthorized = options.onAuthorized;
  }

  async authorize(request: AuthorizeRequest): Promise<GatewayAuthorization> {
    const answered = this.byKey.get(request.idempotencyKey);
    if (answered) {
      this.calls.push({ op: 'authorize', rideId: request.rideId, outcome: `${answered.outcome} (same idempotency key)` });
      return answered;
    }
    if (request.paymentMethod === testCards.flaky && request.attempt <= this.flakyFailures) {
      this.calls.push({ op: 'authorize', rideId: request.rideId, outcome: 'transient failure' });
      throw new TransientGatewayError(`gateway timeout for ${request.paymentMethod} (attempt ${request.attempt})`);
    }
    const result = decide(request);
    this.byKey.set(request.idempotencyKey, result);
    if (result.outcome === 'authorized') {
      this.made.set(request.idempotencyKey, (this.made.get(request.idempotencyKey) ?? 0) + 1);
      this.onAuthorized?.({
        idempotencyKey: request.idempotencyKey,
        paymentId: request.paymentId,
        rideId: request.rideId,
        amount: request.amount,
        currency: request.currency,
        authorizationId: result.authorizationId,
      });
    }
    this.records.set(request.rideId, { status: result.outcome === 'authorized' ? 'authorized' : 'declined', result });
    this.calls.push({ op: 'authorize', rideId: request.rideId, outcome: result.outcome });
    return result;
  }

  async void(ref: GatewayRef): Promise<void> {
    const known = this.records.get(ref.rideId);
    if (known?.status === 'authorized') known.status = 'voided';
    this.calls.push({ op: 'void', rideId: ref.rideId, outcome: known ? known.status : 'nothing to void' });
  }

  async capture(ref: GatewayRef & { amount: number; currency: string }): Promise<{ capturedAt: string }> {
    const known = this.records.get(ref.rideId);
    if (known?.status === 'voided' || known?.status === 'declined') {
      throw new Error(`cannot capture ride ${ref.rideId}: its authorization is ${known.status}`);
    }
    const capturedAt = known?.capturedAt ?? this.now().toISOString();
    this.records.set(ref.rideId, {
      status: 'captured',
      result: known?.result ?? { outcome: 'authorized', authorizationId: authorizationIdFor(ref.rideId) },
      capturedAt,
    });
    this.calls.push({ op: 'capture', rideId: ref.rideId, outcome: 'captured' });
    return { capturedAt };
  }

  /** Authorizations really made per idempotency key (the soak checks none has two). */
  authorizationsMade(): ReadonlyMap<string, number> {
    return this.made;
  }

  /** What the simulated processor holds for a ride (tests). */
  statusOf(rideId: string): SimulatedStatus | undefined {
    return this.records.get(rideId)?.status;
  }
}

function decide(request: AuthorizeRequest): GatewayAuthorization {
  switch (request.paymentMethod) {
    case testCards.visa:
    case testCards.flaky:
      return { outcome: 'authorized', authorizationId: authorizationIdFor(request.rideId) };
    case testCards.declined:
      return { outcome: 'declined', reason: 'card_declined' };
    default:
      return { outcome: 'declined', reason: 'unsupported_payment_method' };
  }
}

function authorizationIdFor(rideId: string): string {
  return `auth_${createHash('sha256').update(`auth:${rideId}`).digest('hex').slice(0, 24)}`;
}
