import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { MemoryStore, type Store } from '@ridehail/shared';
import { republished } from '@ridehail/shared/testing';
import type { SmtpSink } from '../../../test/support/smtpSink';
import type { Mailer } from '../../src/mail/mailer';
import { EmailInProgressError, EmailNotSentError } from '../../src/handlers/deliverEmails';
import {
  aRide,
  harness,
  rideCancelled,
  rideCompleted,
  rideConfirmed,
  rideRejected,
  startSink,
  type NotificationHarness,
} from '../factories';

describe('notification-service handlers', () => {
  let sink: SmtpSink;
  let mailer: Mailer;
  let h: NotificationHarness;

  before(async () => {
    ({ sink, mailer } = await startSink());
  });
  after(async () => {
    await mailer.close();
    await sink.stop();
  });
  beforeEach(async () => {
    sink.fail(0);
    h = await harness(sink, mailer);
  });

  describe('on ride.confirmed', () => {
    it('emails the rider and the driver, records both SENT and emits one notification.sent each', async () => {
      const ride = aRide();
      const confirmed = rideConfirmed(ride);
      await h.deliver(confirmed);
      const emails = h.emails(ride.rideId);
      expect(emails.map((m) => m.to[0]).sort()).to.deep.equal([ride.rider.email, ride.driver.email].sort());
      expect(emails.every((m) => m.headers['x-template'] === 'ride-confirmed')).to.equal(true);
      expect(emails.find((m) => m.to[0] === ride.rider.email)?.text).to.contain('Dan Driver is on the way');
      const records = await h.records(ride.rideId);
      expect(records.map((r) => r.status)).to.deep.equal(['SENT', 'SENT']);
      const events = await h.events();
      expect(events.map((e) => e.type)).to.deep.equal(['notification.sent', 'notification.sent']);
      expect(events.map((e) => e.payload['notificationId']).sort()).to.deep.equal(records.map((r) => r.id).sort());
      expect(events.every((e) => e.causationId === confirmed.id)).to.equal(true);
    });

    it('adds no record, email or event when the message is redelivered', async () => {
      const ride = aRide();
      const confirmed = rideConfirmed(ride);
      await h.deliver(confirmed);
      expect(await h.deliver(confirmed)).to.equal('duplicate');
      expect(h.emails(ride.rideId)).to.have.length(2);
      expect(await h.records(ride.rideId)).to.have.length(2);
      expect(await h.events()).to.have.length(2);
    });

    it('adds no record, email or event when the same fact comes under a new message id', async () => {
      const ride = aRide();
      const confirmed = rideConfirmed(ride);
      await h.deliver(confirmed);
      expect(await h.deliver(republished(confirmed))).to.equal('processed');
      expect(h.emails(ride.rideId)).to.have.length(2);
      expect(await h.records(ride.rideId)).to.have.length(2);
      expect(await h.events()).to.have.length(2);
    });

    it('keeps what was sent when another recipient fails, so the retry emails only the one that failed', async () => {
      const ride = aRide();
      const confirmed = rideConfirmed(ride);
      sink.fail(1); // the first email of the message (the rider's) is refused
      let thrown: unknown;
      await h.deliver(confirmed, 1).catch((err: unknown) => (thrown = err));
      expect(thrown).to.be.instanceOf(EmailNotSentError);
      const afterFirst = await h.records(ride.rideId);
      expect(afterFirst.find((r) => r.recipient === ride.rider.email)).to.deep.include({ status: 'PENDING', attempts: 1 });
      expect(afterFirst.find((r) => r.recipient === ride.driver.email)?.status).to.equal('SENT');
      await h.deliver(confirmed, 2);
      expect(h.sink.to(ride.driver.email).filter((m) => m.headers['x-ride-id'] === ride.rideId)).to.have.length(1);
      expect(h.sink.to(ride.rider.email).filter((m) => m.headers['x-ride-id'] === ride.rideId)).to.have.length(1);
      expect((await h.records(ride.rideId)).map((r) => r.status)).to.deep.equal(['SENT', 'SENT']);
      expect((await h.events()).map((e) => e.type)).to.deep.equal(['notification.sent', 'notification.sent']);
    });
  });

  describe('two deliveries of one fact at once (a redelivery after a broker cut, another replica)', () => {
    it('sends once even when the first lease took longer than the lease itself to commit (a transaction retried on write conflicts)', async () => {
      // withTransaction re-runs a unit of work while another transaction holds its documents (up to 60 s when that
      // one's process died): the lease must run from the attempt that commits, or it is granted already expired and
      // the next delivery sends beside it.
      const memory = new MemoryStore({ name: 'notifications-slow-lease' });
      let delayNextRun = false;
      const slow = new Proxy(memory, {
        get(target, prop) {
          if (prop === 'run')
            return async (...args: Parameters<Store['run']>) => {
              if (delayNextRun) {
                delayNextRun = false;
                await sleep(300);
              }
              return target.run(...args);
            };
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const ride = aRide();
      const cancelled = rideCancelled(ride, false);
      let second: Promise<unknown> | undefined;
      const racing: Mailer = {
        delivers: true,
        isReady: () => mailer.isReady(),
        close: async () => undefined,
        send: async (email) => {
          // The redelivery arrives while the first delivery is about to send (and sends itself if it may).
          if (second === undefined) {
            second = h.deliver(cancelled).then(
              () => 'processed',
              (err: unknown) => err,
            );
            await second;
          }
          return mailer.send(email);
        },
      };
      h = await harness(sink, racing, slow);
      h.deps.sendLeaseMs = 200;
      delayNextRun = true;
      await h.deliver(cancelled);
      expect(await second, 'the second delivery waits for the first one').to.be.instanceOf(EmailInProgressError);
      expect(h.emails(ride.rideId), 'emails sent').to.have.length(1);
    });
    it('leaves a record whose lease ran out during earlier sends, and sends it on the retry', async () => {
      let slowSends = 1;
      const slowMailer: Mailer = {
        delivers: true,
        isReady: () => mailer.isReady(),
        close: async () => undefined,
        send: async (email) => {
          const sent = await mailer.send(email);
          if (slowSends-- > 0) await sleep(250);
          return sent;
        },
      };
      h = await harness(sink, slowMailer);
      h.deps.sendLeaseMs = 150;
      const ride = aRide();
      const confirmed = rideConfirmed(ride);
      let thrown: unknown;
      await h.deliver(confirmed).catch((err: unknown) => (thrown = err));
      expect(thrown, 'the first delivery comes back for the record it no longer holds').to.be.instanceOf(EmailInProgressError);
      expect(h.emails(ride.rideId), 'emails of the first delivery').to.have.length(1);
      expect((await h.records(ride.rideId)).map((r) => r.status).sort()).to.deep.equal(['PENDING', 'SENT']);
      await h.deliver(confirmed, 2);
      expect(
        h
          .emails(ride.rideId)
          .map((m) => m.to[0])
          .sort(),
      ).to.deep.equal([ride.rider.email, ride.driver.email].sort());
      expect((await h.records(ride.rideId)).map((r) => r.status)).to.deep.equal(['SENT', 'SENT']);
    });
  });

  describe('when the SMTP server fails', () => {
    it('throws for a retry while attempts remain, leaving the record PENDING and emitting nothing', async () => {
      const ride = aRide();
      sink.fail(1);
      let thrown: unknown;
      await h.deliver(rideRejected(ride), 1, 3).catch((err: unknown) => (thrown = err));
      expect(thrown).to.be.instanceOf(EmailNotSentError);
      const [record] = await h.records(ride.rideId);
      expect(record).to.deep.include({ status: 'PENDING', attempts: 1 });
      expect(record?.lastError).to.contain('451');
      expect(await h.events()).to.deep.equal([]);
      await h.deliver(rideRejected(ride), 2, 3);
      expect((await h.records(ride.rideId)).map((r) => r.status)).to.deep.equal(['SENT']);
      expect((await h.events()).map((e) => e.type)).to.deep.equal(['notification.sent']);
    });

    it('records FAILED with notification.failed on the last attempt; a later retry sends it without a second record or event', async () => {
      const ride = aRide();
      const rejected = rideRejected(ride);
      sink.fail(1);
      expect(await h.deliver(rejected, 3, 3)).to.equal('processed');
      const [failed] = await h.records(ride.rideId);
      expect(failed?.status).to.equal('FAILED');
      const [failedEvent, ...none] = await h.events();
      expect(none).to.have.length(0);
      expect(failedEvent?.type).to.equal('notification.failed');
      expect(failedEvent?.payload).to.deep.include({ notificationId: failed?.id, recipient: ride.rider.email, template: 'ride-rejected' });
      expect(String(failedEvent?.payload['error'])).to.contain('451');

      // The same fact again, under a new id: the FAILED record is retried and recovers.
      await h.deliver(republished(rejected), 1, 3);
      const records = await h.records(ride.rideId);
      expect(records).to.have.length(1);
      expect(records[0]).to.deep.include({ id: failed?.id, status: 'SENT', outcomeEmitted: 'notification.failed' });
      expect(h.emails(ride.rideId)).to.have.length(1);
      expect((await h.events()).map((e) => e.type)).to.deep.equal(['notification.failed']);
    });

    it('lets a redelivery of the very same message retry a FAILED record', async () => {
      const ride = aRide();
      const rejected = rideRejected(ride);
      sink.fail(1);
      await h.deliver(rejected, 3, 3);
      expect(await h.deliver(rejected, 1, 3)).to.equal('duplicate');
      expect((await h.records(ride.rideId)).map((r) => r.status)).to.deep.equal(['SENT']);
      expect(h.emails(ride.rideId)).to.have.length(1);
      expect((await h.events()).map((e) => e.type)).to.deep.equal(['notification.failed']);
    });
  });

  describe('on ride.rejected, ride.cancelled and ride.completed', () => {
    it('tells the rider their ride was rejected', async () => {
      const ride = aRide();
      await h.deliver(rideRejected(ride));
      const [email, ...rest] = h.emails(ride.rideId);
      expect(rest).to.have.length(0);
      expect(email?.to).to.deep.equal([ride.rider.email]);
      expect(email?.subject).to.equal('No driver available for your ride');
    });

    it('tells the rider and the assigned driver of a cancellation', async () => {
      const ride = aRide();
      await h.deliver(rideCancelled(ride, true));
      expect(
        h
          .emails(ride.rideId)
          .map((m) => m.to[0])
          .sort(),
      ).to.deep.equal([ride.rider.email, ride.driver.email].sort());
      expect((await h.records(ride.rideId)).every((r) => r.template === 'ride-cancelled')).to.equal(true);
    });

    it('tells only the rider of a cancellation before any driver was assigned', async () => {
      const ride = aRide();
      await h.deliver(rideCancelled(ride, false));
      expect(h.emails(ride.rideId).map((m) => m.to[0])).to.deep.equal([ride.rider.email]);
    });

    it('sends the rider a receipt with the fare on completion', async () => {
      const ride = aRide();
      await h.deliver(rideCompleted(ride));
      const [receipt] = h.emails(ride.rideId);
      expect(receipt?.to).to.deep.equal([ride.rider.email]);
      expect(receipt?.headers['x-template']).to.equal('receipt');
      expect(receipt?.text).to.contain('Total: 12.34 EUR');
      expect((await h.records(ride.rideId))[0]).to.deep.include({ template: 'receipt', status: 'SENT' });
    });
  });
});
