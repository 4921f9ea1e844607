// The one delivery procedure every notification handler uses: records first, SMTP outside any transaction, outcomes after.
import { randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  DuplicateKeyError,
  errorMessage,
  type EventType,
  type MessageContext,
  type Store,
  type UnitOfWork,
} from '@ridehail/shared';
import {
  leaseForSending,
  markFailed,
  markSent,
  newNotification,
  noteFailedAttempt,
  type Notification,
  type SendLease,
  type Transition,
  type PlannedEmail,
} from '../domain/notification';
import * as notifications from '../store/notifications';
import { isoNow, type NotificationHandlerDeps } from './deps';

type Outcome =
  { notification: Notification; sent: true; smtpMessageId: string } | { notification: Notification; sent: false; error: string };

/** Thrown when SMTP failed and attempts remain: the message goes to the retry path. */
export class EmailNotSentError extends Error {
  constructor(failures: Array<{ notification: Notification; error: string }>) {
    super(`email not sent to ${failures.map((f) => `${f.notification.recipient} (${f.notification.template}): ${f.error}`).join('; ')}`);
    this.name = 'EmailNotSentError';
  }
}

/** Thrown when another delivery of the same fact holds the lease on a record: the message comes back after a delay. */
export class EmailInProgressError extends Error {
  constructor(busy: Array<{ id: string; until: string }>) {
    super(`another delivery is sending ${busy.map((b) => `${b.id} (lease until ${b.until})`).join(', ')}; retrying after it`);
    this.name = 'EmailInProgressError';
  }
}

/**
 * 1. leases the records to send (creating the missing ones already leased; one per (ride, recipient, template),
 *    whatever the message id): a record another delivery is sending right now is left to it (DESIGN §5);
 * 2. sends the leased ones — outside any transaction, since SMTP is slow I/O that cannot be rolled back;
 * 3. commits the outcomes, which end the leases. On success, or on the last attempt (failures become FAILED +
 *    notification.failed), the outcomes commit with the inbox record through ctx.once. With attempts left, or with a
 *    record still leased to another delivery, the sent ones are committed on their own (so a retry does not email them
 *    twice) and the handler throws for a retry.
 * Only a crash between an SMTP answer and its commit can send an email twice (after the lease expired).
 */
export async function deliverEmails<T extends EventType>(
  ctx: MessageContext<T>,
  deps: NotificationHandlerDeps,
  planned: PlannedEmail[],
): Promise<void> {
  const holder = randomUUID();
  const claim = await leaseRecords(ctx.store, deps, planned, ctx.envelope.id, holder, deps.sendLeaseMs ?? DEFAULT_SEND_LEASE_MS);
  const outcomes: Outcome[] = [];
  for (const notification of claim.leased) {
    // A lease that ran out before its send (a slow commit, slow earlier sends) may be another delivery's by now: this
    // one leaves the record and comes back for it after a delay, like a record another delivery holds.
    if (Date.parse(isoNow(deps)) >= Date.parse(claim.lease.until)) {
      claim.busy.push({ id: notification.id, until: claim.lease.until });
      continue;
    }
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

  const retryFailures = failures.length > 0 && !ctx.isLastAttempt;
  if (retryFailures || claim.busy.length > 0) {
    const mode = retryFailures ? 'attempts-left' : 'final';
    if (outcomes.length > 0)
      await withOutcomes((reread) => ctx.outsideInbox((uow) => applyOutcomes(uow, outcomes, mode, isoNow(deps), reread)));
    if (claim.busy.length > 0) {
      ctx.logger.info('another delivery of this fact is sending; retrying after its lease', { busy: claim.busy });
      throw new EmailInProgressError(claim.busy);
    }
    ctx.logger.warn(`SMTP failed; attempt ${ctx.attempt} of ${ctx.maxAttempts}, retrying`, { failures: failures.map((f) => f.error) });
    throw new EmailNotSentError(failures);
  }
  const result = await withOutcomes((reread) => ctx.once((uow) => applyOutcomes(uow, outcomes, 'final', isoNow(deps), reread)));
  if (result.duplicate) {
    if (outcomes.length > 0)
      await withOutcomes((reread) => ctx.outsideInbox((uow) => applyOutcomes(uow, outcomes, 'final', isoNow(deps), reread)));
    ctx.logger.info('duplicate message acknowledged; only the emails it retried were recorded');
    return;
  }
  if (failures.length > 0)
    ctx.logger.error(`email not sent after ${ctx.attempt} attempts; recorded FAILED`, { failures: failures.map((f) => f.error) });
  ctx.logger.info(
    `notifications: ${outcomes.length - failures.length} sent, ${failures.length} failed, ${claim.total - outcomes.length} already sent or in other hands`,
  );
}

/** How long a delivery may take to send before another may try (a crash mid-send); above SMTP's own timeouts. */
export const DEFAULT_SEND_LEASE_MS = 30_000;

interface Claim {
  /** This delivery's lease, as committed. */
  lease: SendLease;
  /** Leased to this delivery: send them. */
  leased: Notification[];
  /** Leased to another delivery that is still at work. */
  busy: Array<{ id: string; until: string }>;
  total: number;
}

/**
 * One transaction: read the planned records in one query, lease the ones to send and create the missing ones leased
 * (one write for each kind). The lease runs from the attempt that commits: the store re-runs a unit of work on write
 * conflicts (for as long as another transaction, maybe a dead process's, holds the records), and a lease counted from
 * the first attempt could be granted already expired, letting a second delivery send beside this one.
 */
async function leaseRecords(
  store: Store,
  deps: NotificationHandlerDeps,
  planned: PlannedEmail[],
  causationId: string,
  holder: string,
  leaseMs: number,
): Promise<Claim> {
  for (let round = 1; ; round++) {
    try {
      return await store.run(async (tx) => {
        const at = isoNow(deps);
        const lease: SendLease = { holder, until: new Date(Date.parse(at) + leaseMs).toISOString() };
        const fresh = planned.map((p) => newNotification(p, causationId, at, lease));
        const ids = fresh.map((n) => n.id);
        const existing = await notifications.byIds(tx, ids);
        const busy: Claim['busy'] = [];
        const takenOver: Notification[] = [];
        const created: Notification[] = [];
        for (const n of fresh) {
          const stored = existing.get(n.id);
          if (stored === undefined) {
            created.push(n);
            continue;
          }
          const decision = leaseForSending(stored, lease, at);
          if (decision.kind === 'busy') busy.push({ id: stored.id, until: decision.until });
          else if (decision.kind === 'leased') takenOver.push(decision.notification);
        }
        return { lease, leased: await notifications.lease(tx, takenOver, created), busy, total: fresh.length };
      });
    } catch (err) {
      // Another delivery of the same fact created a record first: read it (and its lease) on the next round.
      if (!(err instanceof DuplicateKeyError) || round >= 3) throw err;
    }
  }
}

/** A record moved since this delivery leased it (rare): the outcomes are written again over what is stored now. */
class MovedSinceLeaseError extends Error {}

/**
 * The outcomes end the leases, written from the versions this delivery leased in one round trip; when one moved
 * meanwhile the unit of work aborts (no partial write survives) and runs once more over fresh reads.
 */
async function withOutcomes<R>(run: (reread: boolean) => Promise<R>): Promise<R> {
  try {
    return await run(false);
  } catch (err) {
    if (!(err instanceof MovedSinceLeaseError)) throw err;
    return run(true);
  }
}

async function applyOutcomes(
  uow: UnitOfWork,
  outcomes: Outcome[],
  mode: 'final' | 'attempts-left',
  at: string,
  reread: boolean,
): Promise<void> {
  const next: Transition[] = [];
  // After a lost race the records are read again, all in one query.
  const stored = reread
    ? await notifications.byIds(
        uow.tx,
        outcomes.map((o) => o.notification.id),
      )
    : null;
  for (const o of outcomes) {
    const current = stored ? (stored.get(o.notification.id) ?? null) : o.notification;
    if (current === null) throw new Error(`notification ${o.notification.id} vanished`);
    next.push(
      o.sent
        ? markSent(current, o.smtpMessageId, at)
        : mode === 'final'
          ? markFailed(current, o.error, at)
          : noteFailedAttempt(current, o.error, at),
    );
  }
  const changed = next.flatMap((t) => (t ? [t.notification] : []));
  try {
    await notifications.recordOutcomes(uow.tx, changed);
  } catch (err) {
    if (err instanceof ConcurrencyError && !reread) throw new MovedSinceLeaseError(errorMessage(err));
    throw err;
  }
  for (const t of next) if (t?.event) await uow.emit(t.event.type, t.event.payload);
}
