import { expect } from 'chai';
import {
  markFailed,
  markSent,
  newNotification,
  notificationIdFor,
  noteFailedAttempt,
  planRideCancelled,
  planRideConfirmed,
  planReceipt,
  planRideRejected,
} from '../../src/domain/notification';
import { formatMoney } from '../../src/domain/money';
import { aRide, rideCancelled, rideCompleted, rideConfirmed, rideRejected } from '../factories';

const at = '2024-05-01T10:00:00.000Z';

describe('notification-service domain', () => {
  it('derives one id per (ride, recipient, template), whatever the address case', () => {
    expect(notificationIdFor('r1', 'Ada@Example.com', 'receipt')).to.equal(notificationIdFor('r1', 'ada@example.com', 'receipt'));
    expect(notificationIdFor('r1', 'ada@example.com', 'receipt')).to.not.equal(
      notificationIdFor('r1', 'ada@example.com', 'ride-confirmed'),
    );
    expect(notificationIdFor('r1', 'ada@example.com', 'receipt')).to.not.equal(notificationIdFor('r2', 'ada@example.com', 'receipt'));
  });

  describe('what each event asks for', () => {
    it('ride.confirmed: ride-confirmed to the rider and to the driver', () => {
      const ride = aRide();
      const planned = planRideConfirmed(rideConfirmed(ride).payload);
      expect(planned.map((p) => [p.recipient.email, p.data.template, p.data.role])).to.deep.equal([
        [ride.rider.email, 'ride-confirmed', 'rider'],
        [ride.driver.email, 'ride-confirmed', 'driver'],
      ]);
    });

    it('ride.rejected: ride-rejected to the rider only', () => {
      const ride = aRide();
      expect(planRideRejected(rideRejected(ride).payload).map((p) => [p.recipient.email, p.data.template])).to.deep.equal([
        [ride.rider.email, 'ride-rejected'],
      ]);
    });

    it('ride.cancelled: the rider, and the driver only when one was assigned', () => {
      const ride = aRide();
      expect(planRideCancelled(rideCancelled(ride, true).payload).map((p) => p.recipient.email)).to.deep.equal([
        ride.rider.email,
        ride.driver.email,
      ]);
      expect(planRideCancelled(rideCancelled(ride, false).payload).map((p) => p.recipient.email)).to.deep.equal([ride.rider.email]);
    });

    it('ride.completed: a receipt to the rider that states the fare', () => {
      const ride = aRide();
      const [receipt, ...rest] = planReceipt(rideCompleted(ride).payload);
      expect(rest).to.have.length(0);
      const record = newNotification(receipt!, 'msg-1', at);
      expect(record).to.deep.include({ recipient: ride.rider.email, template: 'receipt', status: 'PENDING', attempts: 0 });
      expect(record.text).to.contain('12.34 EUR');
    });
  });

  it('formats minor units with the currency’s own decimals', () => {
    expect(formatMoney({ amount: 1234, currency: 'EUR' })).to.equal('12.34 EUR');
    expect(formatMoney({ amount: 1234, currency: 'JPY' })).to.equal('1234 JPY');
  });

  describe('a record’s life', () => {
    const pending = () => newNotification(planRideRejected(rideRejected(aRide()).payload)[0]!, 'msg-1', at);

    it('PENDING → SENT emits notification.sent once', () => {
      const sent = markSent(pending(), 'smtp-1', at)!;
      expect(sent.notification.status).to.equal('SENT');
      expect(sent.event?.type).to.equal('notification.sent');
      expect(markSent(sent.notification, 'smtp-2', at)).to.equal(null);
      expect(markFailed(sent.notification, 'boom', at)).to.equal(null);
    });

    it('PENDING → FAILED emits notification.failed with the error', () => {
      const failed = markFailed(pending(), '451 try later', at)!;
      expect(failed.notification.status).to.equal('FAILED');
      expect(failed.event).to.deep.include({ type: 'notification.failed' });
      expect(failed.event?.payload).to.deep.include({ error: '451 try later' });
    });

    it('FAILED → SENT is recorded but emits nothing: the record already emitted its one outcome', () => {
      const failed = markFailed(pending(), '451', at)!.notification;
      const recovered = markSent(failed, 'smtp-1', at)!;
      expect(recovered.notification).to.deep.include({ status: 'SENT', outcomeEmitted: 'notification.failed' });
      expect(recovered.event).to.equal(null);
    });

    it('a failed try with attempts left keeps the status and the error', () => {
      const noted = noteFailedAttempt(pending(), '451', at)!;
      expect(noted.notification).to.deep.include({ status: 'PENDING', attempts: 1, lastError: '451' });
      expect(noted.event).to.equal(null);
    });
  });
});
