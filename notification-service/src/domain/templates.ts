// The email templates, one per situation (DESIGN §3); the wording depends on whether the reader is the rider or the driver.
import type { CancelReason, Money, PersonRef, Point, Template } from '@ridehail/shared';
import { formatMoney } from './money';

export type Role = 'rider' | 'driver';

export interface RenderedEmail {
  subject: string;
  text: string;
}

export type TemplateData =
  | {
      template: 'ride-confirmed';
      role: Role;
      rideId: string;
      rider: PersonRef;
      driver: PersonRef;
      pickup: Point;
      dropoff: Point;
      fare?: Money;
    }
  | { template: 'ride-rejected'; role: 'rider'; rideId: string; rider: PersonRef; reason: string }
  | { template: 'ride-cancelled'; role: Role; rideId: string; rider: PersonRef; driver?: PersonRef; reason: CancelReason }
  | { template: 'receipt'; role: 'rider'; rideId: string; rider: PersonRef; driver: PersonRef; fare?: Money; completedAt: string };

const place = (p: Point) => `${p.lat.toFixed(5)}, ${p.lng.toFixed(5)}`;
const signature = '\n\n— RideHail';

const cancelWording: Record<CancelReason, string> = {
  rider_cancelled: 'the rider cancelled it',
  payment_declined: 'the payment was declined',
};

export function render(data: TemplateData): RenderedEmail & { template: Template } {
  return { template: data.template, ...renderBody(data) };
}

function renderBody(data: TemplateData): RenderedEmail {
  switch (data.template) {
    case 'ride-confirmed': {
      const fare = data.fare ? `\nFare: ${formatMoney(data.fare)}` : '';
      if (data.role === 'rider') {
        return {
          subject: 'Your ride is confirmed',
          text: `Hi ${data.rider.name},\n\n${data.driver.name} is on the way to pick you up at ${place(data.pickup)}.\nRide: ${data.rideId}${fare}${signature}`,
        };
      }
      return {
        subject: 'New ride confirmed',
        text: `Hi ${data.driver.name},\n\nPlease pick up ${data.rider.name} at ${place(data.pickup)} and drive to ${place(data.dropoff)}.\nRide: ${data.rideId}${signature}`,
      };
    }
    case 'ride-rejected':
      return {
        subject: 'No driver available for your ride',
        text: `Hi ${data.rider.name},\n\nSorry, we could not find a driver for your ride (${data.reason}). You have not been charged.\nRide: ${data.rideId}${signature}`,
      };
    case 'ride-cancelled': {
      const reader = data.role === 'rider' ? data.rider.name : (data.driver?.name ?? 'there');
      const charge = data.role === 'rider' ? ' You have not been charged.' : ' You are free for your next ride.';
      return {
        subject: 'Your ride was cancelled',
        text: `Hi ${reader},\n\nThe ride was cancelled: ${cancelWording[data.reason]}.${charge}\nRide: ${data.rideId}${signature}`,
      };
    }
    case 'receipt': {
      const fare = data.fare ? formatMoney(data.fare) : 'as authorized when the ride was confirmed';
      return {
        subject: 'Your ride receipt',
        text: `Hi ${data.rider.name},\n\nThanks for riding with ${data.driver.name}.\nTotal: ${fare}\nCompleted at: ${data.completedAt}\nRide: ${data.rideId}${signature}`,
      };
    }
  }
}
