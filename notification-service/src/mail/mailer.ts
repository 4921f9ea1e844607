// Email out through nodemailer: SMTP_URL when set, else nodemailer's jsonTransport (nothing is delivered, said loudly).
import nodemailer, { type Transporter } from 'nodemailer';
import SMTPPool from 'nodemailer/lib/smtp-pool';
import { errorMessage, type Logger } from '@ridehail/shared';

export interface OutgoingEmail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  /** Extra headers (ride, notification and template ids) so a mail catcher or a test can tell emails apart. */
  headers?: Record<string, string>;
}

export interface Mailer {
  /** False with the jsonTransport: emails are rendered but go nowhere. */
  readonly delivers: boolean;
  /** Resolves when the server accepted the email; rejects on any SMTP failure (the caller decides to retry). */
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
  /** Whether the SMTP server answers (readiness); always true for the jsonTransport. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

export interface MailerOptions {
  smtpUrl?: string;
  from: string;
  logger: Logger;
  /** Connection, greeting and socket timeout, so a hanging server fails the attempt instead of holding it. */
  timeoutMs?: number;
  /** How long a readiness answer is reused (default 5 s): /readyz must not open an SMTP session per probe. */
  readinessCacheMs?: number;
}

export function createMailer(options: MailerOptions): Mailer {
  const timeout = options.timeoutMs ?? 10_000;
  let transporter: Transporter;
  if (options.smtpUrl) {
    // Pooled: an SMTP session costs a handshake (and, on some servers, a deliberate greeting delay) per connection.
    transporter = nodemailer.createTransport(
      new SMTPPool({
        pool: true,
        url: options.smtpUrl,
        maxConnections: 5,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
      }),
    );
  } else {
    options.logger.warn('SMTP_URL is not set: emails are rendered with the jsonTransport and NOT DELIVERED to anyone');
    transporter = nodemailer.createTransport({ jsonTransport: true });
  }
  const delivers = options.smtpUrl !== undefined;
  const cacheMs = options.readinessCacheMs ?? 5_000;
  let lastCheck: { at: number; ready: boolean } | undefined;

  return {
    delivers,
    async send(email) {
      const info: unknown = await transporter.sendMail({
        from: options.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        ...(email.headers ? { headers: email.headers } : {}),
      });
      const messageId = typeof info === 'object' && info !== null && 'messageId' in info ? String(info.messageId) : 'unknown';
      return { messageId };
    },
    async isReady() {
      if (!delivers) return true;
      if (lastCheck && Date.now() - lastCheck.at < cacheMs) return lastCheck.ready;
      let ready: boolean;
      try {
        ready = await transporter.verify();
      } catch (err) {
        options.logger.warn(`SMTP server not ready: ${errorMessage(err)}`);
        ready = false;
      }
      lastCheck = { at: Date.now(), ready };
      return ready;
    },
    async close() {
      transporter.close();
    },
  };
}
