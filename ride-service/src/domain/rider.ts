// The rider aggregate: who may request rides.
import type { PersonRef } from '@ridehail/shared';

export const riderStatuses = ['ACTIVE', 'INACTIVE'] as const;
export type RiderStatus = (typeof riderStatuses)[number];

export interface Rider {
  id: string;
  version: number;
  name: string;
  email: string;
  status: RiderStatus;
  createdAt: string;
}

export function newRider(input: { id: string; name: string; email: string; status: RiderStatus; at: string }): Rider {
  return { id: input.id, version: 1, name: input.name, email: input.email, status: input.status, createdAt: input.at };
}

/** The rider as event payloads carry it: enough for any consumer to write to them. */
export function riderRef(rider: Pick<Rider, 'id' | 'name' | 'email'>): PersonRef {
  return { id: rider.id, name: rider.name, email: rider.email };
}
