// The notification record: at most one per (ride, recipient, template), PENDING → SENT or FAILED, one outcome event each.
import { createHash } from 'node:crypto';
import type { EventType, PayloadOf, PersonRef, Template, Versioned } from '@ridehail/shared';
import { render, type Role, type TemplateData } from './templates';

export const notificationStatuses = ['PENDING', 'SENT', 'FAILED'] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];

type OutcomeType = 'notification.sent' | 'notification.failed';
export type NotificationEvent = { [T in EventType]: { type: T; payload: PayloadOf<T> } }[OutcomeType];

export interface Notification extends Versioned {
  rideId: string;
  /** The email address. */
  recipient: string;
  recipientName: string;
  recipientRole: Role;
  template: Template;
  status: NotificationStatus;
  subject: string;
  text: string;
  /** Sending tries so far, successful or not. */
  attempts: number;
  lastError?: string;
  /**
   * The one outcome event this record has emitted. A record emits exactly one `notification.sent` or
   * `notification.failed` in its life (DESIGN §2 invariant 4), so this is set once and never changes — see markSent.
   */
  outcomeEmitted?: OutcomeType;
  smtpMessageId?: string;
  /**
   * Who is sending it right now, and until when (DESIGN §5, leased external effects): a second delivery of the same
   * fact that finds a live lease waits for it instead of sending again. Cleared by the outcome.
   */
  sendLease?: SendLease;
  /** The message that first asked for this notification. */
  causationId: string;
  createdAt: string;
  updatedAt: string;
  sentAt?: string;
  failedAt?: string;
}

export interface SendLease {
  holder: string;
  /** ISO 8601; after it, the holder counts as gone (a crash mid-send) and another delivery may send. */
  until: string;
}

/** One email a consumed event asks for. */
export interface PlannedEmail {
  rideId: string;
  recipient: PersonRef;
  data: TemplateData;
}

/** Deterministic, so the same (ride, recipient, template) can only ever meet on one record. */
export function notificationIdFor(rideId: string, email: string, template: Template): string {
  const key = JSON.stringify([rideId, email.trim().toLowerCase(), template]);
  return `ntf_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

// ---- what each event asks for -------------------------------------------------------------------------------------

export function planRideConfirmed(p: PayloadOf<'ride.confirmed'>): PlannedEmail[] {
  const common = {
    rideId: p.rideId,
    rider: p.rider,
    driver: p.driver,
    pickup: p.pickup,
    dropoff: p.dropoff,
    ...(p.fare ? { fare: p.fare } : {}),
  };
  return [
    { rideId: p.rideId, recipient: p.rider, data: { template: 'ride-confirmed', role: 'rider', ...common } },
    { rideId: p.rideId, recipient: p.driver, data: { template: 'ride-confirmed', role: 'driver', ...common } },
  ];
}

export function planRideRejected(p: PayloadOf<'ride.rejected'>): PlannedEmail[] {
  return [
    {
      rideId: p.rideId,
      recipient: p.rider,
      data: { template: 'ride-rejected', role: 'rider', rideId: p.rideId, rider: p.rider, reason: p.reason },
    },
  ];
}

/** The driver hears of it only if one was assigned (the payload carries it then). */
export function planRideCancelled(p: PayloadOf<'ride.cancelled'>): PlannedEmail[] {
  const common = { rideId: p.rideId, rider: p.rider, reason: p.reason, ...(p.driver ? { driver: p.driver } : {}) };
  const planned: PlannedEmail[] = [
    { rideId: p.rideId, recipient: p.rider, data: { template: 'ride-cancelled', role: 'rider', ...common } },
  ];
  if (p.driver) planned.push({ rideId: p.rideId, recipient: p.driver, data: { template: 'ride-cancelled', role: 'driver', ...common } });
  return planned;
}

export function planReceipt(p: PayloadOf<'ride.completed'>): PlannedEmail[] {
  return [
    {
      rideId: p.rideId,
      recipient: p.rider,
      data: {
        template: 'receipt',
        role: 'rider',
        rideId: p.rideId,
        rider: p.rider,
        driver: p.driver,
        completedAt: p.completedAt,
        ...(p.fare ? { fare: p.fare } : {}),
      },
    },
  ];
}

// ---- the record's life --------------------------------------------------------------------------------------------

/** A new record, already leased to the delivery that creates it (it sends right after the commit). */
export function newNotification(planned: PlannedEmail, causationId: string, at: string, lease?: SendLease): Notification {
  const email = render(planned.data);
  return {
    id: notificationIdFor(planned.rideId, planned.recipient.email, email.template),
    version: 1,
    rideId: planned.rideId,
    recipient: planned.recipient.email,
    recipientName: planned.recipient.name,
    recipientRole: planned.data.role,
    template: email.template,
    status: 'PENDING',
    subject: email.subject,
    text: email.text,
    attempts: 0,
    causationId,
    createdAt: at,
    updatedAt: at,
    ...(lease ? { sendLease: lease } : {}),
  };
}

export type LeaseDecision =
  { kind: 'leased'; notification: Notification } | { kind: 'busy'; holder: string; until: string } | { kind: 'done' };

/** May this delivery send `n` now? Only when it is not SENT and nobody else holds a live lease on it. */
export function leaseForSending(n: Notification, lease: SendLease, at: string): LeaseDecision {
  if (!needsSending(n)) return { kind: 'done' };
  const held = n.sendLease;
  if (held !== undefined && held.holder !== lease.holder && Date.parse(held.until) > Date.parse(at)) {
    return { kind: 'busy', holder: held.holder, until: held.until };
  }
  return { kind: 'leased', notification: { ...n, sendLease: lease, updatedAt: at } };
}

/** The record without its lease: every outcome ends the sending. */
function unleased(n: Notification): Notification {
  const { sendLease: _ended, ...rest } = n;
  return rest;
}

/** A SENT record is never sent again; PENDING and FAILED ones may be (a redelivery may retry a FAILED one). */
export const needsSending = (n: Notification): boolean => n.status !== 'SENT';

function outcome(n: Notification, type: OutcomeType, error?: string): NotificationEvent {
  const base = { rideId: n.rideId, notificationId: n.id, recipient: n.recipient, template: n.template };
  return type === 'notification.sent' ? { type, payload: base } : { type, payload: { ...base, error: error ?? 'unknown error' } };
}

export type Transition = { notification: Notification; event: NotificationEvent | null } | null;

/**
 * PENDING or FAILED → SENT. Decision for FAILED → SENT (a redelivery retried a FAILED record and it went through):
 * it emits NOTHING. The record already emitted its one outcome, `notification.failed`, and "each record emits exactly
 * one notification.sent or notification.failed" (invariant 4) would break with a second; the record itself (status
 * SENT, `sentAt`, `attempts`) tells the recovery, and `outcomeEmitted` keeps saying what went out.
 */
export function markSent(n: Notification, smtpMessageId: string, at: string): Transition {
  if (n.status === 'SENT') return null;
  const event = n.outcomeEmitted === undefined ? outcome(n, 'notification.sent') : null;
  const notification: Notification = {
    ...unleased(n),
    status: 'SENT',
    attempts: n.attempts + 1,
    smtpMessageId,
    sentAt: at,
    updatedAt: at,
    ...(event ? { outcomeEmitted: event.type } : {}),
  };
  return { notification, event };
}

/** The last attempt failed: PENDING → FAILED with `notification.failed`; a FAILED one stays FAILED and emits nothing. */
export function markFailed(n: Notification, error: string, at: string): Transition {
  if (n.status === 'SENT') return null;
  const event = n.outcomeEmitted === undefined ? outcome(n, 'notification.failed', error) : null;
  const notification: Notification = {
    ...unleased(n),
    status: 'FAILED',
    attempts: n.attempts + 1,
    lastError: error,
    failedAt: at,
    updatedAt: at,
    ...(event ? { outcomeEmitted: event.type } : {}),
  };
  return { notification, event };
}

/** A failed try with attempts left: the status stays as it is (the message will be retried), the error is kept. */
export function noteFailedAttempt(n: Notification, error: string, at: string): Transition {
  if (n.status === 'SENT') return null;
  return { notification: { ...unleased(n), attempts: n.attempts + 1, lastError: error, updatedAt: at }, event: null };
}
