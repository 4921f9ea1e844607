// What payment-service's handlers need besides the message (and its context's store): the gateway and the tariff.
import type { Tariff } from '../domain/fare';
import type { PaymentGateway } from '../gateway/gateway';

export interface PaymentHandlerDeps {
  gateway: PaymentGateway;
  tariff: Tariff;
  now?: () => Date;
  /** How long one delivery holds a ride's gateway call (default 30 s): a second delivery waits for it. */
  gatewayLeaseMs?: number;
}

export const isoNow = (deps: Pick<PaymentHandlerDeps, 'now'>): string => (deps.now ? deps.now() : new Date()).toISOString();
