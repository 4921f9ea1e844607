// How riders and rides look in HTTP answers (DESIGN §3): the stored documents minus what is internal to the store.
import type { Money, PersonRef, Point } from '@ridehail/shared';
import type { HistoryEntry, Ride, RideRating, RideStatus } from '../domain/ride';
import type { Rider, RiderStatus } from '../domain/rider';

export interface RiderView {
  id: string;
  name: string;
  email: string;
  status: RiderStatus;
}

export function riderView(rider: Rider): RiderView {
  return { id: rider.id, name: rider.name, email: rider.email, status: rider.status };
}

export interface RideView {
  id: string;
  riderId: string;
  status: RideStatus;
  pickup: Point;
  dropoff: Point;
  paymentMethod: string;
  driver?: PersonRef;
  fare?: Money;
  reason?: string;
  paid?: Money;
  rating?: RideRating;
  history: HistoryEntry[];
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
}

export function rideView(ride: Ride): RideView {
  const view: RideView = {
    id: ride.id,
    riderId: ride.riderId,
    status: ride.status,
    pickup: ride.pickup,
    dropoff: ride.dropoff,
    paymentMethod: ride.paymentMethod,
    history: ride.history,
    createdAt: ride.createdAt,
    updatedAt: ride.updatedAt,
  };
  if (ride.driver !== undefined) view.driver = ride.driver;
  if (ride.fare !== undefined) view.fare = ride.fare;
  if (ride.reason !== undefined) view.reason = ride.reason;
  if (ride.paid !== undefined) view.paid = { amount: ride.paid.amount, currency: ride.paid.currency };
  if (ride.rating !== undefined) view.rating = ride.rating;
  if (ride.endedAt !== undefined) view.endedAt = ride.endedAt;
  return view;
}
