// What a trip-history rebuild reports: each field of a stored summary that differs from its recomputation (invariant 6).
export interface Drift {
  person: string;
  field: string;
  stored: unknown;
  recomputed: unknown;
}

export interface RebuildOptions {
  repair: boolean;
  /** Currency of a summary a repair has to create (CURRENCY, default EUR); an existing summary keeps its own. */
  currency?: string;
}
