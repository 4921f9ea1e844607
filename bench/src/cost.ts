// Cost of work as the servers count it: MongoDB commands by name and transactions from serverStatus(), before and after a phase.
import mongoose from 'mongoose';

/** Hand-shakes, monitoring and our own reading of the counters: not the work's cost (DESIGN §8). */
const NOT_WORK = new Set([
  'hello',
  'ismaster',
  'isMaster',
  'ping',
  'endSessions',
  'serverStatus',
  'buildInfo',
  'buildinfo',
  'saslStart',
  'saslContinue',
]);

export interface MongoCounters {
  commands: Record<string, number>;
  committed: number;
  aborted: number;
}

export interface MongoCost {
  commands: Record<string, number>;
  totalCommands: number;
  committed: number;
  aborted: number;
}

interface ServerStatus {
  metrics?: { commands?: Record<string, { total?: number | { toNumber(): number } }> };
  transactions?: { totalCommitted?: number; totalAborted?: number };
}

const num = (v: unknown): number =>
  typeof v === 'number'
    ? v
    : v !== null && typeof v === 'object' && 'toNumber' in v
      ? (v as { toNumber(): number }).toNumber()
      : Number(v ?? 0);

/** A reader of MongoDB's own counters over one client of its own (whose hand-shakes are left out like everyone's). */
export async function openMongoCounters(url: string): Promise<{ read(): Promise<MongoCounters>; close(): Promise<void> }> {
  const client = new mongoose.mongo.MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return {
    read: async () => {
      const status = (await client.db('admin').command({ serverStatus: 1 })) as ServerStatus;
      const commands: Record<string, number> = {};
      for (const [name, v] of Object.entries(status.metrics?.commands ?? {})) if (!NOT_WORK.has(name)) commands[name] = num(v.total);
      return { commands, committed: num(status.transactions?.totalCommitted), aborted: num(status.transactions?.totalAborted) };
    },
    close: () => client.close(),
  };
}

export function costBetween(before: MongoCounters, after: MongoCounters): MongoCost {
  const commands: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.commands)) {
    const d = n - (before.commands[name] ?? 0);
    if (d > 0) commands[name] = d;
  }
  return {
    commands,
    totalCommands: Object.values(commands).reduce((s, n) => s + n, 0),
    committed: after.committed - before.committed,
    aborted: after.aborted - before.aborted,
  };
}

/** `109.0 commands per saga (find 36.6, update 27.9, …); transactions 10.0 committed, 6.3 aborted per saga`. */
export function formatMongoCost(cost: MongoCost, sagas: number): string {
  if (sagas <= 0) return 'n/a';
  const per = (n: number) => (n / sagas).toFixed(1);
  const byName = Object.entries(cost.commands)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${per(n)}`)
    .join(', ');
  return `MongoDB: ${per(cost.totalCommands)} commands per saga (${byName}); transactions per saga ${per(cost.committed)} committed, ${per(cost.aborted)} aborted`;
}
