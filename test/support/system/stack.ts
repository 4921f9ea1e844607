// Runs the four services as separate child processes, waits until each is ready, and stops them cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { processEnv } from '@ridehail/shared';
import { scriptEnv } from './env';
import { repoRoot, services, type ServiceInfo, type ServiceKey, type ServiceUrls } from './services';
import { startSmtpSink, type SmtpSink } from './smtp';

export type Runtime = 'auto' | 'dist' | 'tsx';
/** `replica` (1-based) is given only when a service runs as several processes. */
export type OutputSink = (service: ServiceInfo, line: string, stream: 'stdout' | 'stderr', replica?: number) => void;

export interface StackOptions {
  /** Which services to start (all four by default). */
  only?: readonly ServiceKey[];
  /** Default: AMQP_URL of this process, else amqp://localhost. */
  amqpUrl?: string;
  /** MongoDB URL; undefined means in-memory stores in every service. */
  mongoUrl?: string;
  brokerPrefix?: string;
  mongoDbPrefix?: string;
  /** Ports per service; 'free' picks unused ones; default 3001-3004. */
  ports?: Partial<Record<ServiceKey, number>> | 'free';
  /**
   * Processes per service (default 1), consuming the same queue and sharing the same databases, so it needs
   * `mongoUrl` when above 1. The first replica listens on the service's port (its URL is in `urls`), the others on
   * free ports.
   */
  replicas?: number;
  /** SMTP server for notification-service; when unset an in-process sink is started and its URL passed. */
  smtpUrl?: string;
  logLevel?: string;
  /** Extra variables for every service (e.g. RETRY_DELAYS_MS, DRIVER_SEARCH_RADIUS_KM). */
  env?: Record<string, string>;
  /** dist: node <svc>/dist/main.js; tsx: TypeScript directly; auto: dist when built and not older than the sources. */
  runtime?: Runtime;
  /** Where the services' output lines go (default: prefixed on this process's stdout). */
  output?: OutputSink;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export interface StackProcess {
  service: ServiceInfo;
  /** 1-based; 1 when the service runs as one process. */
  replica: number;
  port: number;
  url: string;
  pid: number;
  runtime: 'dist' | 'tsx';
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

export interface Stack {
  processes: StackProcess[];
  urls: ServiceUrls;
  brokerPrefix: string;
  mongoDbPrefix: string;
  /** The store the services use: the MongoDB URL, or 'memory'. */
  store: string;
  smtp?: SmtpSink;
  smtpUrl: string;
  /** SIGTERM to each, waits for all exits (SIGKILL after stopTimeoutMs), stops the SMTP sink; resolves with the exit codes. */
  stop(): Promise<Record<string, number | string>>;
}

const colours: Record<ServiceKey, number> = { ride: 36, driver: 33, payment: 35, notification: 34 };

/** Writes each line as `[ride-service] …`, compacting the services' JSON log lines for people. */
export function prefixedOutput(out: NodeJS.WritableStream = process.stdout, colour = process.stdout.isTTY === true): OutputSink {
  const width = Math.max(...services.map((s) => s.name.length));
  return (service, line, _stream, replica) => {
    const tag = `[${service.name}${replica === undefined ? '' : `#${replica}`}]`.padEnd(width + 4);
    out.write(`${colour ? `\x1b[${colours[service.key]}m${tag}\x1b[0m` : tag} ${humanLogLine(line)}\n`);
  };
}

/** Appends every line, prefixed by its service, to a file (the demo keeps the services' logs out of its own output). */
export function fileOutput(file: string): OutputSink {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const stream = fs.createWriteStream(file, { flags: 'a' });
  return (service, line, _stream, replica) => {
    stream.write(`[${service.name}${replica === undefined ? '' : `#${replica}`}] ${line}\n`);
  };
}

/** `12:00:01.234 info  message key=value` from a winston JSON line; anything else unchanged. */
export function humanLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof parsed !== 'object' || parsed === null) return line;
  const { level, message, timestamp, service: _service, ...rest } = parsed as Record<string, unknown>;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 23) : '';
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${String(level ?? '').padEnd(5)} ${String(message ?? '')}${extras ? `  ${extras}` : ''}`;
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** dist when `<svc>/dist/main.js` and `shared/dist/index.js` exist and are newer than their sources. */
export function chooseRuntime(service: ServiceInfo, wanted: Runtime = 'auto'): 'dist' | 'tsx' {
  if (wanted !== 'auto') return wanted;
  const main = path.join(repoRoot, service.dir, 'dist', 'main.js');
  const shared = path.join(repoRoot, 'shared', 'dist', 'index.js');
  if (!fs.existsSync(main) || !fs.existsSync(shared)) return 'tsx';
  const built = Math.min(fs.statSync(main).mtimeMs, fs.statSync(shared).mtimeMs);
  const sources = Math.max(newestMtime(path.join(repoRoot, service.dir, 'src')), newestMtime(path.join(repoRoot, 'shared', 'src')));
  return built >= sources ? 'dist' : 'tsx';
}

function commandFor(service: ServiceInfo, runtime: 'dist' | 'tsx'): string[] {
  const profDir = scriptEnv().STACK_CPU_PROF_DIR;
  // One folder per service; Node names each file after the process and thread (a loader thread writes its own).
  const profile = profDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(profDir, service.name)] : [];
  if (runtime === 'dist') return [...profile, path.join(service.dir, 'dist', 'main.js')];
  // One node process with tsx's loader (not the tsx CLI, which would add a process between us and the service).
  return [...profile, '--import', 'tsx', path.join(service.dir, 'src', 'main.ts')];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The children run in their own process groups (so one Ctrl-C is not delivered twice); never leave them behind.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const chosen = services.filter((s) => !options.only || options.only.includes(s.key));
  const output = options.output ?? prefixedOutput();
  const brokerPrefix = options.brokerPrefix ?? '';
  const mongoDbPrefix = options.mongoDbPrefix ?? '';
  const amqpUrl = options.amqpUrl ?? scriptEnv().AMQP_URL;
  const replicas = options.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`replicas must be a positive integer, not ${replicas}`);
  // In-memory stores live in each process: replicas would each see their own world, and sagas would break.
  if (replicas > 1 && !options.mongoUrl) throw new Error('several replicas of a service need a shared store: give mongoUrl');
  const ports: Partial<Record<ServiceKey, number>> = {};
  for (const s of services) {
    ports[s.key] = options.ports === 'free' ? await freePort() : (options.ports?.[s.key] ?? s.defaultPort);
  }
  let smtp: SmtpSink | undefined;
  let smtpUrl = options.smtpUrl;
  if (!smtpUrl && chosen.some((s) => s.key === 'notification')) {
    smtp = await startSmtpSink();
    smtpUrl = smtp.url;
  }

  installExitHook();
  const processes: StackProcess[] = [];
  const children: ChildProcess[] = [];
  const tails = new Map<StackProcess, string[]>();
  for (const service of chosen) {
    for (let index = 0; index < replicas; index += 1) {
      const port = index === 0 ? (ports[service.key] ?? service.defaultPort) : await freePort();
      const replica = replicas > 1 ? index + 1 : undefined;
      const runtime = chooseRuntime(service, options.runtime);
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(processEnv())) if (v !== undefined) env[k] = v;
      // The stack's settings win over whatever this shell has exported.
      delete env['MONGO_URL'];
      delete env['SMTP_URL'];
      Object.assign(env, options.env ?? {}, {
        PORT: String(port),
        AMQP_URL: amqpUrl,
        BROKER_PREFIX: brokerPrefix,
        MONGO_DB_PREFIX: mongoDbPrefix,
        LOG_LEVEL: options.logLevel ?? env['LOG_LEVEL'] ?? 'info',
      });
      if (options.mongoUrl) env['MONGO_URL'] = options.mongoUrl;
      if (service.key === 'notification' && smtpUrl) env['SMTP_URL'] = smtpUrl;

      const child = spawn(process.execPath, commandFor(service, runtime), {
        cwd: repoRoot,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      live.add(child);
      children.push(child);
      const tail: string[] = [];
      for (const stream of ['stdout', 'stderr'] as const) {
        const source = child[stream];
        if (!source) continue;
        readline.createInterface({ input: source }).on('line', (line) => {
          tail.push(line);
          if (tail.length > 30) tail.shift();
          output(service, line, stream, replica);
        });
      }
      const exited = new Promise<number | string>((resolve) => {
        child.once('exit', (code, signal) => {
          live.delete(child);
          resolve(code ?? signal ?? 'unknown');
        });
      });
      const proc: StackProcess = {
        service,
        replica: index + 1,
        port,
        url: `http://127.0.0.1:${port}`,
        pid: child.pid ?? -1,
        runtime,
        exited,
      };
      tails.set(proc, tail);
      processes.push(proc);
    }
  }

  const urls = {} as ServiceUrls;
  for (const s of services) urls[s.key] = `http://127.0.0.1:${ports[s.key] ?? s.defaultPort}`;

  let stopping: Promise<Record<string, number | string>> | undefined;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const stop = () => {
    stopping ??= (async () => {
      const codes: Record<string, number | string> = {};
      await Promise.all(
        processes.map(async (p, i) => {
          const child = children[i];
          if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child?.kill('SIGKILL'), stopTimeoutMs);
          codes[p.replica > 1 ? `${p.service.name}#${p.replica}` : p.service.name] = await p.exited;
          clearTimeout(timer);
        }),
      );
      if (smtp) await smtp.close();
      return codes;
    })();
    return stopping;
  };

  try {
    await waitUntilReady(processes, tails, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { processes, urls, brokerPrefix, mongoDbPrefix, store: options.mongoUrl ?? 'memory', smtp, smtpUrl: smtpUrl ?? '', stop };
}

async function waitUntilReady(processes: StackProcess[], tails: Map<StackProcess, string[]>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    processes.map(async (p) => {
      let exit: number | string | undefined;
      void p.exited.then((code) => {
        exit = code;
      });
      for (;;) {
        if (exit !== undefined) {
          const tail = (tails.get(p) ?? []).slice(-10).join('\n  ');
          throw new Error(
            `${p.service.name}${p.replica > 1 ? ` #${p.replica}` : ''} exited (${exit}) before it was ready; its last lines:\n  ${tail}`,
          );
        }
        let reason = '';
        try {
          const res = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(1000) });
          if (res.status === 200) return;
          const body: unknown = await res.json().catch(() => undefined);
          if (typeof body === 'object' && body !== null && 'reason' in body && typeof body.reason === 'string') reason = body.reason;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(
            `${p.service.name}${p.replica > 1 ? ` #${p.replica}` : ''} was not ready on ${p.url}/readyz within ${timeoutMs} ms` +
              (reason ? `: ${reason}` : ''),
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
  );
}
