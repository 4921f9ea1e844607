// A RabbitMQ cluster of its own for the cluster lane (DESIGN §8): nodes started from the installed rabbitmq-server on
// this machine, each with its own node name, ports and directories under one temporary folder, joined with rabbitmqctl.
// The machine's own broker (rabbit@localhost on 5672) is never touched: nothing here uses its name, ports or files.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectToAnyNode } from '@ridehail/shared';
import { freePort } from './system/stack';

/** Where the Debian/Ubuntu package keeps the real scripts (/usr/sbin/rabbitmq-server is a wrapper that `su`s). */
const PACKAGE_SCRIPTS = '/usr/lib/rabbitmq/bin';
/** The cookie the package's nodes and CLI tools share, in the rabbitmq user's home. */
const PACKAGE_COOKIE = '/var/lib/rabbitmq/.erlang.cookie';

export interface ClusterNode {
  /** 1-based. */
  index: number;
  /** e.g. `ridehail-c1-3fa2b1@localhost`. */
  name: string;
  amqpPort: number;
  distPort: number;
  url: string;
  dir: string;
}

interface Identity {
  /** Set when this process runs as root: the nodes and CLI calls run as this user (the package's `rabbitmq`). */
  uid?: number;
  gid?: number;
  user: string;
  /** HOME of the nodes and CLI calls: where Erlang finds the cookie. */
  home: string;
  cookie: string;
}

export interface ClusterOptions {
  size?: number;
  /** Prefix of the node names (default `ridehail-c`): `<label><n>-<run>@localhost`. */
  label?: string;
  /** How long a node may take to accept AMQP connections (default 90 s). */
  bootTimeoutMs?: number;
  /** Progress lines (node started, joined, killed...). */
  log?: (line: string) => void;
}

/** Why the lane cannot start a cluster on this machine, or null when it can try. */
export function clusterUnavailableReason(): string | null {
  if (process.platform === 'win32') return 'the cluster lane starts rabbitmq-server nodes on Linux/macOS only';
  const scripts = scriptsDir();
  if (!scripts) {
    const explicit = process.env['RABBITMQ_SCRIPTS_DIR'];
    return explicit
      ? `no rabbitmq-server and rabbitmqctl in RABBITMQ_SCRIPTS_DIR (${explicit})`
      : `rabbitmq-server is not installed (no ${PACKAGE_SCRIPTS}/rabbitmq-server, none on PATH)`;
  }
  try {
    identity();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return null;
}

/** The folder with rabbitmq-server and rabbitmqctl: RABBITMQ_SCRIPTS_DIR, else the package's, else the first on PATH. */
function scriptsDir(): string | null {
  const has = (dir: string) => fs.existsSync(path.join(dir, 'rabbitmq-server')) && fs.existsSync(path.join(dir, 'rabbitmqctl'));
  const explicit = process.env['RABBITMQ_SCRIPTS_DIR'];
  if (explicit) return has(explicit) ? explicit : null;
  // /usr/sbin/rabbitmq-server of the Debian package is a wrapper that `su`s to the scripts in PACKAGE_SCRIPTS.
  if (has(PACKAGE_SCRIPTS)) return PACKAGE_SCRIPTS;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) if (dir && has(dir)) return dir;
  return null;
}

/** The package's user, when it exists: `{uid, gid, home}` from /etc/passwd. */
function passwdEntry(user: string): { uid: number; gid: number; home: string } | null {
  let text: string;
  try {
    text = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name === user && uid && gid && home) return { uid: Number(uid), gid: Number(gid), home };
  }
  return null;
}

/**
 * Who runs the nodes. As root: the package's `rabbitmq` user (rabbitmq-server refuses nothing as root, but the
 * package's files and cookie are that user's), with its cookie. As that user: the same. As anyone else: this user, with a
 * cookie of the lane's own in `scratch` (a cluster only needs its nodes and CLI calls to agree on one).
 */
function identity(scratch?: string): Identity {
  const pkg = passwdEntry('rabbitmq');
  const uid = process.getuid?.() ?? -1;
  if (pkg && (uid === 0 || uid === pkg.uid)) {
    let cookie: string;
    try {
      cookie = fs.readFileSync(PACKAGE_COOKIE, 'utf8').trim();
    } catch (err) {
      throw new Error(`cannot read the nodes' cookie ${PACKAGE_COOKIE}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (cookie.length === 0) throw new Error(`${PACKAGE_COOKIE} is empty`);
    const id: Identity = { user: 'rabbitmq', home: path.dirname(PACKAGE_COOKIE), cookie };
    if (uid === 0) Object.assign(id, { uid: pkg.uid, gid: pkg.gid });
    return id;
  }
  const home = path.join(scratch ?? os.tmpdir(), 'home');
  const cookie = randomBytes(20).toString('hex').toUpperCase();
  if (scratch) {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, '.erlang.cookie'), cookie, { mode: 0o400 });
  }
  return { user: os.userInfo().username, home, cookie };
}

/** `chown -R` to the nodes' user (only when running as root). */
function chownTree(dir: string, id: Identity): void {
  if (id.uid === undefined || id.gid === undefined) return;
  fs.chownSync(dir, id.uid, id.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, id);
    else fs.chownSync(full, id.uid, id.gid);
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<number | string>;
}

/** Process groups of nodes started here that are still alive; killed if this process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export class RabbitCluster {
  readonly nodes: ClusterNode[];
  private readonly running = new Map<number, Running>();
  private stopped = false;

  private constructor(
    readonly root: string,
    private readonly scripts: string,
    private readonly id: Identity,
    nodes: ClusterNode[],
    private readonly bootTimeoutMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.nodes = nodes;
  }

  /** Every node's AMQP URL, comma separated: AMQP_URL for the services. */
  get amqpUrl(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** e.g. `ridehail-c1-3fa2b1@localhost:5701, …`. */
  describe(): string {
    return this.nodes.map((n) => `${n.name} :${n.amqpPort}`).join(', ');
  }

  /**
   * Starts `size` nodes at once, waits until each accepts AMQP connections, then joins nodes 2… to node 1. On any
   * failure it stops what it started, removes its folder, and rethrows.
   */
  static async start(options: ClusterOptions = {}): Promise<RabbitCluster> {
    const scripts = scriptsDir();
    if (!scripts) throw new Error('rabbitmq-server is not installed');
    const size = options.size ?? 3;
    const run = randomBytes(3).toString('hex');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `ridehail-cluster-${run}-`));
    const log = options.log ?? (() => undefined);
    let cluster: RabbitCluster | undefined;
    try {
      const id = identity(root);
      const nodes: ClusterNode[] = [];
      for (let index = 1; index <= size; index += 1) {
        const amqpPort = await freePort();
        const distPort = await freePort();
        const dir = path.join(root, `node${index}`);
        nodes.push({
          index,
          name: `${options.label ?? 'ridehail-c'}${index}-${run}@localhost`,
          amqpPort,
          distPort,
          url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
          dir,
        });
        writeNodeFiles(dir, amqpPort);
      }
      fs.writeFileSync(path.join(root, 'rabbitmq-env.conf'), '# the cluster lane sets everything through the environment\n');
      // mkdtemp makes the folder 0700: the nodes' user must be able to enter it.
      fs.chmodSync(root, 0o755);
      chownTree(root, id);
      cluster = new RabbitCluster(root, scripts, id, nodes, options.bootTimeoutMs ?? 90_000, log);
      installExitHook();
      const started = Date.now();
      await Promise.all(nodes.map((n) => cluster!.boot(n)));
      log(`${size} nodes up in ${((Date.now() - started) / 1000).toFixed(1)} s; joining them`);
      const [first, ...others] = nodes;
      if (!first) throw new Error('a cluster needs at least one node');
      // stop_app and start_app (the slow part) side by side; the joins themselves one after the other.
      await Promise.all(others.map((node) => cluster!.ctl(node, ['stop_app'])));
      for (const node of others) await cluster.ctl(node, ['join_cluster', first.name]);
      await Promise.all(others.map((node) => cluster!.ctl(node, ['start_app'])));
      log(`${others.map((n) => n.name).join(', ')} joined ${first.name}`);
      const running = await cluster.runningNodes(first);
      const missing = nodes.filter((n) => !running.includes(n.name)).map((n) => n.name);
      if (missing.length > 0) throw new Error(`cluster formed without ${missing.join(', ')} (running: ${running.join(', ')})`);
      log(`cluster of ${size} running ${((Date.now() - started) / 1000).toFixed(1)} s after the start`);
      return cluster;
    } catch (err) {
      if (cluster) await cluster.stop();
      else fs.rmSync(root, { recursive: true, force: true });
      throw err;
    }
  }

  node(index: number): ClusterNode {
    const node = this.nodes.find((n) => n.index === index);
    if (!node) throw new Error(`no node ${index}`);
    return node;
  }

  isRunning(node: ClusterNode): boolean {
    return this.running.has(node.index);
  }

  /** Runs rabbitmqctl against `node` (as the nodes' user, with their cookie); resolves with its stdout. */
  async ctl(node: ClusterNode, args: string[], timeoutMs = 60_000): Promise<string> {
    return this.run('rabbitmqctl', ['-n', node.name, '--erlang-cookie', this.id.cookie, ...args], timeoutMs);
  }

  /** The nodes the cluster reports running, asked through `via`. */
  async runningNodes(via: ClusterNode): Promise<string[]> {
    const out = await this.ctl(via, ['cluster_status', '--formatter', 'json']);
    const status = JSON.parse(out) as { running_nodes?: unknown };
    return Array.isArray(status.running_nodes) ? status.running_nodes.map(String) : [];
  }

  /** The leader node of each quorum queue whose name starts with `prefix`, asked through a running node. */
  async leaders(prefix: string): Promise<Map<string, string>> {
    const via = this.nodes.find((n) => this.isRunning(n));
    if (!via) throw new Error('no node of the cluster is running');
    const out = await this.ctl(via, ['list_queues', '--formatter', 'json', 'name', 'type', 'leader']);
    const rows = JSON.parse(out) as { name?: unknown; type?: unknown; leader?: unknown }[];
    const leaders = new Map<string, string>();
    for (const row of rows) {
      if (typeof row.name !== 'string' || !row.name.startsWith(prefix) || row.type !== 'quorum') continue;
      leaders.set(row.name, String(row.leader));
    }
    return leaders;
  }

  /** The node that leads most of `queues` (ties: the lowest index). */
  async leaderOf(queues: readonly string[], prefix: string): Promise<{ node: ClusterNode; leads: string[] }> {
    const leaders = await this.leaders(prefix);
    let best: { node: ClusterNode; leads: string[] } | undefined;
    for (const node of this.nodes) {
      const leads = queues.filter((q) => leaders.get(q) === node.name);
      if (!best || leads.length > best.leads.length) best = { node, leads };
    }
    if (!best || best.leads.length === 0)
      throw new Error(`no leader known for ${queues.join(', ')} (${JSON.stringify(Object.fromEntries(leaders))})`);
    return best;
  }

  /** SIGKILL to the node's whole process group (its start script and the Erlang VM): a crash, no goodbye. */
  async kill(node: ClusterNode): Promise<void> {
    const running = this.running.get(node.index);
    if (!running) throw new Error(`${node.name} is not running`);
    const pid = running.child.pid;
    if (pid === undefined) throw new Error(`${node.name} has no pid`);
    process.kill(-pid, 'SIGKILL');
    await running.exited;
    this.log(`${node.name} killed (SIGKILL to process group ${pid})`);
  }

  /** Starts a stopped or killed node again on its own ports and data; resolves once it accepts AMQP connections. */
  async restart(node: ClusterNode): Promise<void> {
    if (this.isRunning(node)) throw new Error(`${node.name} is still running`);
    const started = Date.now();
    await this.boot(node);
    this.log(`${node.name} back after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /**
   * Stops every node it started (`rabbitmqctl stop`, then SIGKILL to what is left after 30 s) and removes its folder.
   * Idempotent; never rejects.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      [...this.running.entries()].map(async ([index, running]) => {
        const node = this.node(index);
        const pid = running.child.pid;
        const timer = setTimeout(() => {
          if (pid !== undefined) {
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }, 30_000);
        try {
          await this.ctl(node, ['stop'], 30_000);
        } catch (err) {
          this.log(`rabbitmqctl stop ${node.name} failed (${err instanceof Error ? err.message : String(err)}); killing it`);
          if (pid !== undefined) {
            try {
              process.kill(-pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
        await running.exited;
        clearTimeout(timer);
      }),
    );
    fs.rmSync(this.root, { recursive: true, force: true });
    this.log(`cluster stopped, ${this.root} removed`);
  }

  /** Spawns the node's start script (in its own process group) and waits until its AMQP port answers. */
  private async boot(node: ClusterNode): Promise<void> {
    if (this.stopped) throw new Error('the cluster was stopped');
    const console = fs.openSync(path.join(node.dir, 'console.log'), 'a');
    const child = spawn(path.join(this.scripts, 'rabbitmq-server'), [], {
      cwd: node.dir,
      env: this.nodeEnv(node),
      detached: true,
      stdio: ['ignore', console, console],
      ...(this.id.uid !== undefined ? { uid: this.id.uid, gid: this.id.gid } : {}),
    });
    fs.closeSync(console);
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${node.name} did not start`);
    liveGroups.add(pid);
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signal) => {
        liveGroups.delete(pid);
        this.running.delete(node.index);
        resolve(code ?? signal ?? 'unknown');
      });
    });
    this.running.set(node.index, { child, exited });
    const deadline = Date.now() + this.bootTimeoutMs;
    for (;;) {
      if (!this.running.has(node.index)) throw new Error(`${node.name} exited while starting: ${this.consoleTail(node)}`);
      try {
        const conn = await connectToAnyNode(node.url, { timeout: 2_000 });
        await conn.close();
        return;
      } catch {
        // not accepting connections yet
      }
      if (Date.now() > deadline) throw new Error(`${node.name} did not accept AMQP on ${node.amqpPort} within ${this.bootTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private consoleTail(node: ClusterNode): string {
    try {
      const lines = fs.readFileSync(path.join(node.dir, 'console.log'), 'utf8').trim().split('\n');
      return lines.slice(-8).join('\n  ');
    } catch {
      return '(no console output)';
    }
  }

  /** The node's environment: its own name, ports, files; nothing inherited from /etc/rabbitmq or the machine's node. */
  private nodeEnv(node: ClusterNode): NodeJS.ProcessEnv {
    return {
      ...this.toolEnv(),
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_USE_LONGNAME: 'false',
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(node.amqpPort),
      RABBITMQ_DIST_PORT: String(node.distPort),
      RABBITMQ_CONF_ENV_FILE: path.join(node.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(node.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(node.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(node.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(node.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(node.dir, 'log'),
      RABBITMQ_PID_FILE: path.join(node.dir, 'node.pid'),
      // Distribution on loopback only, like the machine's node; epmd is the machine's (shared by name, not touched).
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  /** The CLI tools' environment: the nodes' HOME (cookie), none of /etc/rabbitmq's settings, distribution on loopback. */
  private toolEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']) if (process.env[key] !== undefined) env[key] = process.env[key];
    return {
      ...env,
      HOME: this.id.home,
      USER: this.id.user,
      LOGNAME: this.id.user,
      RABBITMQ_CONF_ENV_FILE: path.join(this.root, 'rabbitmq-env.conf'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  }

  private run(tool: string, args: string[], timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const child = spawn(path.join(this.scripts, tool), args, {
        cwd: this.root,
        env: this.toolEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(this.id.uid !== undefined ? { uid: this.id.uid, gid: this.id.gid } : {}),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else
          reject(
            new Error(
              `${tool} ${args.filter((a) => a !== this.id.cookie).join(' ')} ended with ${code ?? signal}: ${(stderr || stdout).trim().slice(0, 500)}`,
            ),
          );
      });
    });
  }
}

function writeNodeFiles(dir: string, amqpPort: number): void {
  for (const sub of ['mnesia', 'log']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  // An empty env file, so /etc/rabbitmq/rabbitmq-env.conf (the machine node's name and settings) is not read.
  fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '# the cluster lane sets everything through the environment\n');
  fs.writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
      'loopback_users.guest = true',
      'log.console = false',
      'log.file.level = info',
      // Quorum queue leaders where the declaring client is (the default): the services declare on the first node.
      '',
    ].join('\n'),
  );
  // No plugins: no management listener to collide with the machine's (the lane uses rabbitmqctl).
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
}
