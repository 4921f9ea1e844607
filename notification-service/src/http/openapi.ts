// notification-service's routes for the OpenAPI document: the schemas routes.ts parses with, and the shape of its answers.
import { isoTime, templateSchema, type Same, type ServiceApi } from '@ridehail/shared';
import { z } from 'zod';
import { notificationStatuses } from '../domain/notification';
import { idParams, listNotificationsQuery, type toNotificationView } from './routes';

/** What toNotificationView writes: one email of a ride to one recipient, without its rendered body. */
export const notificationSchema = z.object({
  id: z.string(),
  rideId: z.string(),
  recipient: z.string().describe('the email address'),
  recipientName: z.string(),
  recipientRole: z.enum(['rider', 'driver']),
  template: templateSchema,
  status: z.enum(notificationStatuses),
  subject: z.string(),
  attempts: z.number().int().nonnegative().describe('sending tries so far, successful or not'),
  lastError: z.string().optional(),
  outcomeEmitted: z.enum(['notification.sent', 'notification.failed']).optional().describe('the one outcome event this record emitted'),
  causationId: z.string().describe('the message that first asked for this notification'),
  createdAt: isoTime,
  updatedAt: isoTime,
  sentAt: isoTime.optional(),
  failedAt: isoTime.optional(),
});

export const notificationListSchema = z.array(notificationSchema);

// The documented shape and the view the handlers write must not drift apart: each must be assignable to the other.
const _shape: Same<z.output<typeof notificationSchema>, ReturnType<typeof toNotificationView>> = true;
void _shape;

export const notificationApi: ServiceApi = {
  description: 'The emails sent about rides, one record per (ride, recipient, template). They are made over the broker only.',
  tags: [{ name: 'notifications', description: 'Notification records' }],
  schemas: { Notification: notificationSchema, NotificationList: notificationListSchema },
  routes: [
    {
      method: 'get',
      path: '/notifications',
      operationId: 'listNotifications',
      summary: 'List notifications',
      description: 'Newest first, at most `limit`; empty when nothing matches.',
      tag: 'notifications',
      query: listNotificationsQuery,
      responses: { 200: { description: 'The notifications.', body: notificationListSchema } },
    },
    {
      method: 'get',
      path: '/notifications/:id',
      operationId: 'getNotification',
      summary: 'Read a notification',
      tag: 'notifications',
      params: idParams,
      responses: { 200: { description: 'The notification.', body: notificationSchema } },
    },
  ],
};
