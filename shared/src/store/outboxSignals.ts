// The outbox's signals to the relay: the doorbell, and the fast path that hands over the rows of local commits.
import { Doorbell } from '../doorbell';
import type { FastPath, OutboxRecord } from './port';

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

/** The relay-facing half both adapters' outboxes share: they differ in how rows are claimed and marked, not in this. */
export abstract class SignalledOutbox {
  readonly signals = new OutboxSignals();

  /** Wakes the relay: once per event-loop turn, however many commits or change events rang. */
  notify(): void {
    this.signals.doorbell.ring();
  }

  clearListeners(): void {
    this.signals.clear();
  }

  attachFastPath(fastPath: FastPath): () => void {
    return this.signals.attach(fastPath);
  }

  onNewMessages(listener: () => void): () => void {
    return this.signals.doorbell.subscribe(listener);
  }
}
