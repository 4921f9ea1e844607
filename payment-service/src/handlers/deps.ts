// What payment-service's handlers need besides the message: the store (for planning reads), the gateway, the tariff.
import type { Store } from '@ridehail/shared';
import type { Tariff } from '../domain/fare';
import type { PaymentGateway } from '../gateway/gateway';

export interface PaymentHandlerDeps {
  /** Read outside the inbox transaction to plan a gateway call; the decision is taken again inside it. */
  store: Store;
  gateway: PaymentGateway;
  tariff: Tariff;
  now?: () => Date;
}

export const isoNow = (deps: Pick<PaymentHandlerDeps, 'now'>): string => (deps.now ? deps.now() : new Date()).toISOString();
