// The one delivery procedure every notification handler uses: records first, SMTP outside any transaction, outcomes after.
import {
  DuplicateKeyError,
  createEnvelope,
  errorMessage,
  type EventType,
  type MessageContext,
  type Store,
  type Transaction,
} from '@ridehail/shared';
import {
  markFailed,
  markSent,
  needsSending,
  newNotification,
  noteFailedAttempt,
  type Notification,
  type NotificationEvent,
  type PlannedEmail,
} from '../domain/notification';
import { notificationsCollection } from '../store/collections';
import { isoNow, type NotificationHandlerDeps } from './deps';

type Outcome =
  { notification: Notification; sent: true; smtpMessageId: string } | { notification: Notification; sent: false; error: string };
type Emit = (event: NotificationEvent) => Promise<void>;

/** Thrown when SMTP failed and attempts remain: the message goes to the retry path. */
export class EmailNotSentError extends Error {
  constructor(failures: Array<{ notification: Notification; error: string }>) {
    super(`email not sent to ${failures.map((f) => `${f.notification.recipient} (${f.notification.template}): ${f.error}`).join('; ')}`);
    this.name = 'EmailNotSentError';
  }
}

/**
 * 1. creates the PENDING records that do not exist yet (one per (ride, recipient, template), whatever the message id);
 * 2. sends every record not SENT yet — outside any transaction, since SMTP is slow I/O that cannot be rolled back;
 * 3. commits the outcomes. On success, or on the last attempt (failures become FAILED + notification.failed), the
 *    outcomes commit with the inbox record through ctx.once. With attempts left, the sent ones are committed on their
 *    own (so a retry does not email them twice) and the handler throws for a retry.
 * A duplicate message whose retry of a FAILED record went through still records it SENT, outside the inbox.
 * Two deliveries of one fact at the very same moment may both send a PENDING record's email (SMTP is at-least-once
 * anyway); they still meet on one record, and it emits one outcome.
 */
export async function deliverEmails<T extends EventType>(
  ctx: MessageContext<T>,
  deps: NotificationHandlerDeps,
  planned: PlannedEmail[],
): Promise<void> {
  const records = await createPending(ctx.store, deps, planned, ctx.envelope.id);
  const outcomes: Outcome[] = [];
  for (const notification of records.filter(needsSending)) {
    try {
      const { messageId } = await deps.mailer.send({
        to: { name: notification.recipientName, address: notification.recipient },
        subject: notification.subject,
        text: notification.text,
        headers: { 'X-Ride-Id': notification.rideId, 'X-Notification-Id': notification.id, 'X-Template': notification.template },
      });
      outcomes.push({ notification, sent: true, smtpMessageId: messageId });
    } catch (err) {
      outcomes.push({ notification, sent: false, error: errorMessage(err) });
    }
  }
  const failures = outcomes.filter((o): o is Extract<Outcome, { sent: false }> => !o.sent);
  const emitOutsideInbox =
    (tx: Transaction): Emit =>
    async (event) => {
      await tx.outbox.add(
        createEnvelope({
          type: event.type,
          payload: event.payload,
          source: 'notification-service',
          correlationId: ctx.envelope.correlationId,
          causationId: ctx.envelope.id,
        }),
      );
    };

  if (failures.length > 0 && !ctx.isLastAttempt) {
    await ctx.store.run((tx) => applyOutcomes(tx, outcomes, 'attempts-left', emitOutsideInbox(tx), isoNow(deps)));
    ctx.logger.warn(`SMTP failed; attempt ${ctx.attempt} of ${ctx.maxAttempts}, retrying`, { failures: failures.map((f) => f.error) });
    throw new EmailNotSentError(failures);
  }
  const result = await ctx.once((uow) =>
    applyOutcomes(uow.tx, outcomes, 'final', (event) => uow.emit(event.type, event.payload), isoNow(deps)),
  );
  if (result.duplicate) {
    if (outcomes.length > 0) await ctx.store.run((tx) => applyOutcomes(tx, outcomes, 'final', emitOutsideInbox(tx), isoNow(deps)));
    ctx.logger.info('duplicate message acknowledged; only the emails it retried were recorded');
    return;
  }
  if (failures.length > 0)
    ctx.logger.error(`email not sent after ${ctx.attempt} attempts; recorded FAILED`, { failures: failures.map((f) => f.error) });
  ctx.logger.info(
    `notifications: ${outcomes.length - failures.length} sent, ${failures.length} failed, ${records.length - outcomes.length} already sent`,
  );
}

async function createPending(
  store: Store,
  deps: NotificationHandlerDeps,
  planned: PlannedEmail[],
  causationId: string,
): Promise<Notification[]> {
  for (let round = 1; ; round++) {
    try {
      return await store.run(async (tx) => {
        const repo = tx.repo(notificationsCollection);
        const records: Notification[] = [];
        for (const p of planned) {
          const fresh = newNotification(p, causationId, isoNow(deps));
          records.push((await repo.get(fresh.id)) ?? (await repo.insert(fresh)));
        }
        return records;
      });
    } catch (err) {
      // Another delivery of the same fact created the record first: read it on the next round.
      if (!(err instanceof DuplicateKeyError) || round >= 3) throw err;
    }
  }
}

async function applyOutcomes(tx: Transaction, outcomes: Outcome[], mode: 'final' | 'attempts-left', emit: Emit, at: string): Promise<void> {
  const repo = tx.repo(notificationsCollection);
  for (const o of outcomes) {
    const current = await repo.get(o.notification.id);
    if (current === null) throw new Error(`notification ${o.notification.id} vanished`);
    const next = o.sent
      ? markSent(current, o.smtpMessageId, at)
      : mode === 'final'
        ? markFailed(current, o.error, at)
        : noteFailedAttempt(current, o.error, at);
    if (next === null) continue;
    await repo.update(next.notification);
    if (next.event) await emit(next.event);
  }
}
