// What ride-service's use cases need: the store, who emits, the currency of the summaries, and a clock.
import type { ServiceName, Store } from '@ridehail/shared';

export interface UseCaseDeps {
  store: Store;
  /** The emitting service's name (`source` of the envelopes). */
  service: ServiceName;
  /** The currency of the rider summaries (CURRENCY). */
  currency: string;
  now?: () => Date;
}

export const clockOf = (deps: UseCaseDeps): (() => Date) => deps.now ?? (() => new Date());
