// A real SMTP server in the test process (smtp-server on 127.0.0.1, port 0) that keeps what it receives, or refuses on demand.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** What tests need of a received email; header names are lower-case. */
export interface SinkMessage {
  /** SMTP envelope sender and recipients (MAIL FROM / RCPT TO). */
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  raw: string;
  receivedAt: Date;
  /** When its transaction began (MAIL FROM): the sender was at work on it from then until it got the answer. */
  startedAt: Date;
  /** The SMTP session it came over (the client's port tells which process sent it). */
  session: SinkSession;
}

export interface SinkSession {
  id: string;
  /** The client's TCP port on 127.0.0.1. */
  remotePort: number;
}

export interface SinkOptions {
  /** Called as each client connects, before the greeting (e.g. to find which process owns the client's port). */
  onConnect?: (session: SinkSession) => void;
}

export interface SmtpSink {
  /** e.g. smtp://127.0.0.1:41234 — pass it as SMTP_URL. */
  url: string;
  port: number;
  /** Every accepted email, in arrival order. */
  messages: SinkMessage[];
  /** Refuses the next `n` emails with a transient 451 (after reading them), as a struggling server would. */
  fail(n: number): void;
  /** Emails addressed to `address` (case-insensitive). */
  to(address: string): SinkMessage[];
  /** Errors of client connections (e.g. reset by a killed client), in order. */
  connectionErrors: string[];
  /** Sessions in the middle of an email right now (MAIL FROM given, the data not yet taken), with when it began. */
  sending(): Array<SinkSession & { since: Date }>;
  stop(): Promise<void>;
}

export async function startSmtpSink(options: SinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const inTransaction = new Map<string, SinkSession & { since: Date }>();
  const sessionOf = (session: { id: string; remotePort: number }): SinkSession => ({ id: session.id, remotePort: session.remotePort });
  const connectionErrors: string[] = [];
  let failNext = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    closeTimeout: 1000,
    // No reverse DNS of 127.0.0.1 per connection: it costs ~150 ms an email.
    disableReverseLookup: true,
    onConnect(session, callback) {
      options.onConnect?.(sessionOf(session));
      callback();
    },
    onMailFrom(_address, session, callback) {
      inTransaction.set(session.id, { ...sessionOf(session), since: new Date() });
      callback();
    },
    onClose(session) {
      inTransaction.delete(session.id);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if (failNext > 0) {
          inTransaction.delete(session.id);
          failNext -= 1;
          const refusal = Object.assign(new Error('4.3.0 mailbox temporarily unavailable (smtp sink told to fail)'), { responseCode: 451 });
          callback(refusal);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const to = session.envelope.rcptTo.map((r) => r.address);
        const startedAt = inTransaction.get(session.id)?.since ?? new Date();
        inTransaction.delete(session.id);
        messages.push({ ...parseMessage(raw), from, to, raw, receivedAt: new Date(), startedAt, session: sessionOf(session) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client that dies mid-session (a SIGKILLed process) resets its connection: the server reports it as an 'error',
  // which must not take the test process down.
  server.on('error', (err: Error) => connectionErrors.push(err.message));
  // The underlying net.Server is public at runtime but missing from the type definitions.
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    connectionErrors,
    fail(n: number) {
      failNext = n;
    },
    to(address: string) {
      return messages.filter((m) => m.to.some((t) => t.toLowerCase() === address.toLowerCase()));
    },
    sending() {
      return [...inTransaction.values()];
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---- a small MIME reader: enough for the plain-text emails nodemailer writes (7bit, quoted-printable, base64, multipart)

function parseMessage(raw: string): { subject: string; text: string; headers: Record<string, string> } {
  const { headers, body } = splitHeaders(raw);
  return { subject: headers['subject'] ?? '', text: textOf(headers, body), headers };
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function textOf(headers: Record<string, string>, body: string): string {
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body
      .split(`--${boundary}`)
      .slice(1)
      .filter((p) => !p.startsWith('--'));
    for (const part of parts) {
      const inner = splitHeaders(part.replace(/^\r?\n/, ''));
      const text = textOf(inner.headers, inner.body);
      if (text !== '') return text;
    }
    return '';
  }
  if (!/^text\/plain/i.test(type)) return '';
  return decodeBody(body, headers['content-transfer-encoding'] ?? '7bit')
    .replace(/\r\n/g, '\n')
    .replace(/\n$/, '');
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.replace(/=\r?\n/g, ''));
    default:
      return body;
  }
}

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 1, i + 3);
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(s[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=), as nodemailer writes non-ASCII subjects. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}
