import { expect } from 'chai';
import { createLogger } from '@ridehail/shared';
import { createMailer } from '../../src/mail/mailer';

/** A silent logger that keeps its warnings, to check that the jsonTransport fallback is announced. */
function warningLogger() {
  const warnings: string[] = [];
  const logger = Object.assign(createLogger('notification-service', 'info'), { silent: true });
  const warn = ((message: unknown) => {
    warnings.push(String(message));
    return logger;
  }) as typeof logger.warn;
  logger.warn = warn;
  return { logger, warnings };
}

describe('notification-service mailer', () => {
  it('without SMTP_URL renders emails with the jsonTransport and says loudly that nothing is delivered', async () => {
    const { logger, warnings } = warningLogger();
    const mailer = createMailer({ from: 'RideHail <no-reply@ridehail.example>', logger });
    expect(mailer.delivers).to.equal(false);
    expect(warnings.some((w) => /NOT DELIVERED/.test(w))).to.equal(true);
    const { messageId } = await mailer.send({ to: { name: 'Ada', address: 'ada@example.com' }, subject: 'hello', text: 'world' });
    expect(messageId).to.be.a('string').and.not.equal('unknown');
    expect(await mailer.isReady()).to.equal(true);
    await mailer.close();
  });

  it('is not ready while its SMTP server does not answer', async () => {
    const logger = Object.assign(createLogger('notification-service', 'error'), { silent: true });
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', from: 'no-reply@ridehail.example', logger, timeoutMs: 2000 });
    expect(await mailer.isReady()).to.equal(false);
    await mailer.close();
  });
});
