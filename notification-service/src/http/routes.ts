// notification-service's HTTP API (DESIGN §3): the notification records of a ride, newest first, and one by id.
import type { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, parseParams, parseQuery, type RouteDeps } from '@ridehail/shared';
import type { Notification } from '../domain/notification';
import * as notifications from '../store/notifications';

export const listNotificationsQuery = z.object({
  rideId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const idParams = z.object({ id: z.string().min(1).max(200) });

/** The API view: the record without its rendered body or the store's bookkeeping. */
export function toNotificationView(n: Notification) {
  return {
    id: n.id,
    rideId: n.rideId,
    recipient: n.recipient,
    recipientName: n.recipientName,
    recipientRole: n.recipientRole,
    template: n.template,
    status: n.status,
    subject: n.subject,
    attempts: n.attempts,
    ...(n.lastError !== undefined ? { lastError: n.lastError } : {}),
    ...(n.outcomeEmitted !== undefined ? { outcomeEmitted: n.outcomeEmitted } : {}),
    causationId: n.causationId,
    createdAt: n.createdAt,
    updatedAt: n.updatedAt,
    ...(n.sentAt !== undefined ? { sentAt: n.sentAt } : {}),
    ...(n.failedAt !== undefined ? { failedAt: n.failedAt } : {}),
  };
}

export function mountNotificationRoutes(router: Router, deps: RouteDeps): void {
  router.get('/notifications', async (req, res) => {
    const query = parseQuery(listNotificationsQuery, req.query);
    const found = await notifications.page(deps.store, query);
    res.json(found.map(toNotificationView));
  });

  router.get('/notifications/:id', async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const notification = await notifications.byId(deps.store, id);
    if (notification === null) throw new NotFoundError('notification', id);
    res.json(toNotificationView(notification));
  });
}
