// What driver-service's handlers are given by the composition root.
export interface HandlerDeps {
  /** DRIVER_SEARCH_RADIUS_KM: how far from the pickup a driver may be reserved. */
  radiusKm: number;
  /** CURRENCY: the currency of trip-history totals. */
  currency: string;
  /** The clock of reservation times; tests pin it. */
  now?: () => Date;
}

export function clock(deps: HandlerDeps): () => string {
  return () => (deps.now ? deps.now() : new Date()).toISOString();
}
