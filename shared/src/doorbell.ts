// The one wake-up signal: a ring is never lost (kept for the next `wait`), and listeners hear it once per event-loop turn.
export class Doorbell {
  private rung = false;
  private stopped = false;
  private scheduled = false;
  /** Waiting for a ring (or a timeout). */
  private readonly waiters = new Set<() => void>();
  /** Backing off: only stop cuts that short. */
  private readonly sleepers = new Set<() => void>();
  /** Called on a later turn of the event loop, once however many rang meanwhile. */
  private readonly listeners = new Set<() => void>();

  ring(): void {
    if (this.listeners.size > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        for (const listener of [...this.listeners]) listener();
      });
    }
    if (this.waiters.size === 0) {
      this.rung = true;
      return;
    }
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets the listeners (the waiters still end on their timers or on stop). */
  clear(): void {
    this.listeners.clear();
  }

  stop(): void {
    this.stopped = true;
    this.ring();
    for (const s of [...this.sleepers]) s();
  }

  /** Resolves on a ring (or one that came while nobody waited), on stop, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.rung || this.stopped) {
      this.rung = false;
      return Promise.resolve();
    }
    return this.timer(ms, this.waiters);
  }

  /** Resolves after `ms`, or at once on stop. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.timer(ms, this.sleepers);
  }

  private timer(ms: number, set: Set<() => void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
}
