// Ids already handled: the Zuul builds predicted (the reporter may announce a build again) and the runs
// predicted (the firehose sends one event per subunit file of a build, and again after a worker retry).
// The memory is bounded (oldest forgotten first) because a listener runs for months.

export class SeenIds {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  /** true the first time an id is offered, false for a repeat. */
  claim(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Gives an id back, so that a later event for it is tried again (its work failed, or found nothing yet). */
  release(id: string): void {
    this.seen.delete(id);
  }

  get size(): number {
    return this.seen.size;
  }
}
