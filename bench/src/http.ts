// The load generator's JSON-over-HTTP client: undici over kept-alive connections to 127.0.0.1, and a bounded parallel loop.
import { Agent, request } from 'undici';

export interface JsonResponse {
  status: number;
  body: unknown;
}

const TIMEOUT_MS = 30_000;

export class BenchHttp {
  private readonly agent: Agent;

  /** `connections`: the most sockets open to one service at once (requests beyond them queue in the client). */
  constructor(connections = 64) {
    // undici reads the server's `Keep-Alive: timeout=` and retires a socket before the server would close it, so a
    // request never lands on a socket the service closed while it sat idle.
    this.agent = new Agent({ connections, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  }

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
    const target = new URL(url);
    if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') {
      throw new Error(`the benchmark only talks to 127.0.0.1, not ${target.hostname}`);
    }
    const res = await request(target, {
      dispatcher: this.agent,
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    const contentType = res.headers['content-type'];
    if (text.length > 0 && String(contentType ?? '').includes('json')) {
      try {
        return { status: res.statusCode, body: JSON.parse(text) as unknown };
      } catch (err) {
        throw new Error(`${method} ${url}: unparseable JSON answer (${(err as Error).message})`, { cause: err });
      }
    }
    return { status: res.statusCode, body: text };
  }

  /** A request that must answer `expected`; returns the parsed body. */
  async expect(expected: number, method: string, url: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, url, body);
    if (res.status !== expected) {
      throw new Error(
        `${method} ${url} answered ${res.status} (expected ${expected}): ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`,
      );
    }
    return res.body;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; rejects on the first failure. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
