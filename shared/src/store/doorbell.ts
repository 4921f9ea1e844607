// The outbox's signals to the relay: the doorbell (once per event-loop turn however many rang) and the fast path of local commits.
import type { FastPath, OutboxRecord } from './port';

export class Doorbell {
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  ring(): void {
    if (this.scheduled || this.listeners.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.listeners.clear();
  }
}

/** What both store adapters do after a commit that wrote outbox rows: hand them to the fast path, else ring. */
export class OutboxSignals {
  readonly doorbell = new Doorbell();
  private fastPath: FastPath | null = null;

  /** The relay that takes this process's commits, when one is attached: rows are written leased to it. */
  current(): FastPath | null {
    return this.fastPath;
  }

  attach(fastPath: FastPath): () => void {
    if (this.fastPath !== null && this.fastPath !== fastPath) throw new Error('an outbox fast path is already attached to this store');
    this.fastPath = fastPath;
    return () => {
      if (this.fastPath === fastPath) this.fastPath = null;
    };
  }

  /** `leasedTo` is the fast path the rows were written for (null: written unleased, for whoever claims them). */
  committed(rows: OutboxRecord[], leasedTo: FastPath | null): void {
    if (rows.length === 0) return;
    if (leasedTo !== null && leasedTo === this.fastPath) leasedTo.committed(rows);
    else this.doorbell.ring();
  }

  clear(): void {
    this.doorbell.clear();
    this.fastPath = null;
  }
}
