// One piece of test infrastructure per process, shared by every lane that asks, stopped when its last user lets go.
export interface Located {
  url: string;
  source: string;
  shutdown(): Promise<void>;
}

export interface Lease<L extends Located> {
  found: L;
  /** Gives this caller's use back; idempotent. The last release shuts the infrastructure down. */
  release(): Promise<void>;
}

/** Wraps `locate` so it runs once while anyone holds a lease, and again after everyone released. */
export function shared<L extends Located>(locate: () => Promise<L | null>): () => Promise<Lease<L> | null> {
  let located: Promise<L | null> | null = null;
  let users = 0;
  return async () => {
    located ??= locate();
    const found = await located;
    if (!found) return null;
    users += 1;
    let released = false;
    return {
      found,
      release: async () => {
        if (released) return;
        released = true;
        users -= 1;
        if (users > 0) return;
        located = null;
        await found.shutdown();
      },
    };
  };
}

/** Whether testcontainers can reach Docker (or another runtime); where it can't, lanes use what the machine has. */
export async function containerRuntimeReachable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    // No runtime: not an error, the caller falls back or reports its lane as not run.
    return false;
  }
}
