// notification-service's collection in the `notifications` database, with the indexes its queries use.
import { defineCollection } from '@ridehail/shared';
import type { Notification } from '../domain/notification';

/** The id is derived from (ride, recipient, template); the unique index says the same in the store's own words. */
export const notificationsCollection = defineCollection<Notification>('notifications', [
  { fields: { rideId: 1, recipient: 1, template: 1 }, unique: true, name: 'notifications_ride_recipient_template_unique' },
  { fields: { rideId: 1, createdAt: -1 }, name: 'notifications_ride_newest_first' },
  { fields: { createdAt: -1, id: -1 }, name: 'notifications_newest_first' },
]);

export const collections = [notificationsCollection];
