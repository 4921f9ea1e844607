// The outbox doorbell: after a commit (or a change event) the relay is woken, once per event-loop turn however many rang.
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
