// What Linux's /proc says about the processes a lane started: resident memory, and which process owns a TCP connection.
import { promises as fs } from 'node:fs';

/** VmRSS of a process in kB, or undefined when it is gone (or /proc is not there). */
export async function rssKb(pid: number): Promise<number | undefined> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface TcpSocket {
  localPort: number;
  remotePort: number;
  inode: string;
}

/** The machine's TCP sockets (IPv4 and IPv6) from /proc/net/tcp{,6}: ports and inode. */
async function tcpSockets(): Promise<TcpSocket[]> {
  const sockets: TcpSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const remote = fields[2];
      const inode = fields[9];
      if (!local || !remote || !inode || inode === '0') continue;
      sockets.push({
        localPort: parseInt(local.slice(local.lastIndexOf(':') + 1), 16),
        remotePort: parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16),
        inode,
      });
    }
  }
  return sockets;
}

/** The socket inodes a process holds open (from /proc/<pid>/fd). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = await fs.readdir(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  await Promise.all(
    fds.map(async (fd) => {
      try {
        const target = await fs.readlink(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }),
  );
  return inodes;
}

/** The local ports of the connections `pid` holds to `serverPort` (on this machine). */
export async function portsConnectedTo(pid: number, serverPort: number): Promise<Set<number>> {
  const [sockets, inodes] = await Promise.all([tcpSockets(), socketInodes(pid)]);
  return new Set(sockets.filter((s) => s.remotePort === serverPort && inodes.has(s.inode)).map((s) => s.localPort));
}

/**
 * Which process holds the client end (local port `clientPort`) of a connection to `serverPort`: one of `pids` when it
 * is one of them, else any process of the machine (say, one that just started); undefined when none does.
 */
export async function ownerOfConnection(clientPort: number, serverPort: number, pids: readonly number[]): Promise<number | undefined> {
  const sockets = await tcpSockets();
  const inodes = new Set(sockets.filter((s) => s.localPort === clientPort && s.remotePort === serverPort).map((s) => s.inode));
  if (inodes.size === 0) return undefined;
  const holds = async (pid: number) => {
    const held = await socketInodes(pid);
    return [...inodes].some((inode) => held.has(inode));
  };
  for (const pid of pids) if (await holds(pid)) return pid;
  let all: number[];
  try {
    all = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return undefined;
  }
  for (const pid of all) if (!pids.includes(pid) && (await holds(pid))) return pid;
  return undefined;
}
