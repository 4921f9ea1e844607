// The payment gateway port: the only I/O of payment-service besides its store; authorizations are idempotent by key.
import type { GatewayAuthorization } from '../domain/payment';

export interface AuthorizeRequest {
  rideId: string;
  paymentId: string;
  /** The same key always gets the first answer and never a second authorization, as with a real gateway. */
  idempotencyKey: string;
  amount: number;
  currency: string;
  paymentMethod: string;
  /** The delivery attempt of the message asking (1 on first delivery); the simulator's flaky card keys on it. */
  attempt: number;
}

export interface GatewayRef {
  rideId: string;
  paymentId: string;
}

export interface PaymentGateway {
  /** Authorizes or declines; the same ride always gets the same answer. Throws TransientGatewayError for "try later". */
  authorize(request: AuthorizeRequest): Promise<GatewayAuthorization>;
  /** Releases an authorization; voiding one that does not exist (or twice) is a no-op. */
  void(ref: GatewayRef): Promise<void>;
  /** Captures an authorization; capturing twice returns the first capture's time. */
  capture(ref: GatewayRef & { amount: number; currency: string }): Promise<{ capturedAt: string }>;
}

/** The gateway could not answer now; the message goes to the retry path. */
export class TransientGatewayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientGatewayError';
  }
}
