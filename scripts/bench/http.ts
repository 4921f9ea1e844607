// A lean JSON-over-HTTP client for load generation: keep-alive sockets to 127.0.0.1, no per-request allocations beyond the body.
import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
}

class StaleSocketError extends Error {}

export class BenchHttp {
  private readonly agent: http.Agent;

  constructor(maxSockets = 64) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
    try {
      return await this.once(method, url, body, headers);
    } catch (err) {
      // A kept-alive socket the server closed while it sat idle (its keepAliveTimeout): Node's documented retry case.
      if (err instanceof StaleSocketError) return this.once(method, url, body, headers);
      throw err;
    }
  }

  private once(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<JsonResponse> {
    const target = new URL(url);
    if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') {
      return Promise.reject(new Error(`the benchmark only talks to 127.0.0.1, not ${target.hostname}`));
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<JsonResponse>((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          host: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method,
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if (text.length > 0 && (res.headers['content-type'] ?? '').includes('json')) {
              try {
                parsed = JSON.parse(text) as unknown;
              } catch (err) {
                reject(new Error(`${method} ${url}: unparseable JSON answer (${(err as Error).message})`));
                return;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(req.reusedSocket && err.code === 'ECONNRESET' ? new StaleSocketError(err.message) : err);
      });
      req.end(payload);
    });
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

  close(): void {
    this.agent.destroy();
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
