// One lane per saga: this process handles the messages of one ride one after another, and those of different rides at once.

/**
 * The events of one saga often arrive together (`fare.calculated`, `driver.assigned` and `payment.authorized` all change
 * one ride within milliseconds). Run side by side, their transactions write the same document and all but one abort
 * and run again; queued per correlation id they commit one after the other at the cost of a few milliseconds.
 * Across replicas the store's optimistic concurrency still decides, as before.
 */
export class SagaLanes {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<R>(key: string, work: () => Promise<R>): Promise<R> {
    const previous = this.tails.get(key);
    const result = previous === undefined ? work() : previous.then(work, work);
    // The lane's tail never rejects (a failure belongs to its own caller), and a lane with nothing queued is forgotten.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
