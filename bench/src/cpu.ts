// CPU time per process (pidusage), so a benchmark can say where the cores went: which service, the broker, the client.
import fs from 'node:fs';
import pidusage from 'pidusage';

/** User + system CPU milliseconds of a process so far, or null when it cannot be read (gone, or no such process here). */
export async function cpuMsOf(pid: number): Promise<number | null> {
  try {
    return (await pidusage(pid)).ctime;
  } catch {
    // The breakdown then leaves this process out; cpuSnapshot's caller sees it missing from the figures.
    return null;
  }
}

/** The RabbitMQ server's Erlang VM (beam.smp), when it runs on this machine and /proc is readable. */
export function findBrokerPid(): number | null {
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'beam.smp') continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('rabbit')) return Number(entry);
    }
  } catch {
    // No /proc (not Linux): the CPU breakdown leaves the broker out.
  }
  return null;
}

/** The process listening on a local TCP port (e.g. the MongoDB of MONGO_URL), when /proc tells; null otherwise. */
export function findListenerPid(port: number): number | null {
  try {
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!fs.existsSync(table)) continue;
      for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        const local = cols[1];
        // st 0A = LISTEN; the local address ends in :PORT in hex.
        if (!local || cols[3] !== '0A' || parseInt(local.split(':')[1] ?? '', 16) !== port) continue;
        if (cols[9]) inodes.add(cols[9]);
      }
    }
    if (inodes.size === 0) return null;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${entry}/fd`);
      } catch {
        // Another user's process (or one that just ended): not ours to read.
        continue;
      }
      for (const fd of fds) {
        try {
          const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${entry}/fd/${fd}`));
          if (m && inodes.has(m[1] as string)) return Number(entry);
        } catch {
          // The descriptor closed while we looked.
        }
      }
    }
  } catch {
    // No /proc (not Linux): the CPU breakdown leaves the database out.
  }
  return null;
}

/** The port of a mongodb:// URL's first host (27017 when it names none). */
export function mongoPort(url: string): number | null {
  const m = /^mongodb:\/\/(?:[^@/]*@)?[^:/?,]+(?::(\d+))?/.exec(url);
  if (!m) return null;
  return m[1] ? Number(m[1]) : 27017;
}

/** Takes CPU readings of named processes now; `since()` gives each one's CPU ms used after that. */
export async function cpuSnapshot(pids: Record<string, number | null | undefined>): Promise<{ since(): Promise<Record<string, number>> }> {
  const self0 = process.cpuUsage();
  const readAll = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      const v = pid ? await cpuMsOf(pid) : null;
      if (v !== null) out[name] = v;
    }
    return out;
  };
  const start = await readAll();
  return {
    since: async () => {
      const self = process.cpuUsage(self0);
      const now = await readAll();
      const out: Record<string, number> = { 'bench process': (self.user + self.system) / 1000 };
      for (const [name, before] of Object.entries(start)) {
        const after = now[name];
        if (after !== undefined) out[name] = after - before;
      }
      return out;
    },
  };
}

/** `ride-service 1.23 ms, driver-service 0.8 ms, …` of CPU per unit of work (e.g. per saga). */
export function formatCpuPer(used: Record<string, number>, units: number, unit: string): string {
  if (units <= 0) return 'n/a';
  const total = Object.values(used).reduce((s, v) => s + v, 0);
  const parts = Object.entries(used).map(([name, msUsed]) => `${name} ${(msUsed / units).toFixed(2)}`);
  return `CPU ms per ${unit}: ${parts.join(', ')} (total ${(total / units).toFixed(2)})`;
}
