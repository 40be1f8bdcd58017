// The firehose repeats a build: one event per subunit file, and again after a worker retry. Each build
// is predicted once. The memory is bounded (oldest forgotten first) because a listener runs for months.

export class SeenBuilds {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  /** true the first time a build is offered, false for a repeat. */
  claim(buildUuid: string): boolean {
    if (this.seen.has(buildUuid)) return false;
    this.seen.add(buildUuid);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
    return true;
  }

  /** Gives a build back, so that a later event for it is tried again (its work failed for good). */
  release(buildUuid: string): void {
    this.seen.delete(buildUuid);
  }

  get size(): number {
    return this.seen.size;
  }
}
