// A saga's timeline as a causal tree: every message of one ride, children under the message that caused them.
import type { TappedMessage } from './tap';

export interface TimelineNode {
  message: TappedMessage;
  children: TimelineNode[];
}

/** What an HTTP-caused message (no causationId) came from, to label the tree's roots. */
const httpCause: Record<string, string> = {
  'ride.requested': 'POST /rides',
  'ride.cancelled': 'POST /rides/:id/cancel',
  'ride.completed': 'POST /rides/:id/complete',
  'ride.rated': 'POST /rides/:id/rating',
};

export function buildTimeline(messages: readonly TappedMessage[]): TimelineNode[] {
  // A message republished by the relay keeps its id: show it once.
  const unique = new Map<string, TappedMessage>();
  for (const m of messages) if (!unique.has(m.envelope.id)) unique.set(m.envelope.id, m);
  const sorted = [...unique.values()].sort((a, b) => time(a) - time(b) || a.receivedAt - b.receivedAt);
  const nodes = new Map(sorted.map((m) => [m.envelope.id, { message: m, children: [] as TimelineNode[] }]));
  const roots: TimelineNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.message.envelope.causationId ? nodes.get(node.message.envelope.causationId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

const time = (m: TappedMessage) => Date.parse(m.envelope.occurredAt);

export interface RenderOptions {
  /** Times are shown as +ms since this instant (the HTTP request that started the saga). */
  since: number;
  colour?: boolean;
  /** Characters of each message id to show (full ids with 0). */
  idLength?: number;
}

const serviceColours: Record<string, number> = {
  'ride-service': 36,
  'driver-service': 33,
  'payment-service': 35,
  'notification-service': 34,
};

/** One line per message: tree branch, +ms, service, event, message id, and the message (or request) it was caused by. */
export function renderTimeline(roots: readonly TimelineNode[], options: RenderOptions): string[] {
  const paint = (code: number, s: string) => (options.colour ? `\x1b[${code}m${s}\x1b[0m` : s);
  const short = (id: string) => (options.idLength === 0 ? id : id.slice(0, options.idLength ?? 8));
  const lines: string[] = [];
  const walk = (node: TimelineNode, prefix: string, last: boolean, root: boolean) => {
    const env = node.message.envelope;
    const branch = root ? '' : last ? '└─ ' : '├─ ';
    const ms = `+${Math.max(0, time(node.message) - options.since)}ms`.padStart(8);
    const service = env.source.padEnd(20);
    const cause = env.causationId ? `caused by ${short(env.causationId)}` : `caused by ${httpCause[env.type] ?? 'HTTP'}`;
    const label = `${prefix}${branch}${paint(1, env.type)}`;
    // Pad the tree part to a column so the details line up (the escape codes are not counted).
    const visible = prefix.length + branch.length + env.type.length;
    lines.push(
      `${label}${' '.repeat(Math.max(1, 46 - visible))}${ms}  ${paint(serviceColours[env.source] ?? 0, service)} id ${short(env.id)}  ${paint(2, cause)}`,
    );
    const childPrefix = root ? prefix : prefix + (last ? '   ' : '│  ');
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, false));
  };
  for (const root of roots) walk(root, '', true, true);
  return lines;
}
