/**
 * @module
 * A Durable Object's alarm as the object knows it: read once per instance, then kept in memory,
 * so that "ring no later than `at`" costs a billed `setAlarm` only when it moves the alarm
 * earlier. Used by every object whose alarm forgets what has ended (a user's, a party's limits).
 */

export class AlarmClock {
  /** The alarm as last read or set by this instance; undefined until known, null when none is set. */
  #at: number | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Where the alarm is, null when none is set; undefined until `know()` has run. */
  get at(): number | null | undefined {
    return this.#at;
  }

  /** Learns where the alarm is, once per instance, before a verb that may need it earlier. */
  async know(): Promise<void> {
    if (this.#at !== undefined) return;
    const stored = await this.storage.getAlarm();
    // Another call may have set it while this one read.
    if (this.#at === undefined) this.#at = stored;
  }

  /** Makes sure an alarm rings no later than `at` (every `setAlarm` is a billed row). */
  by(at: number): Promise<void> | undefined {
    if (this.#at != null && this.#at <= at) return;
    this.#at = at;
    return this.storage.setAlarm(at);
  }

  /** Rings the alarm now (whatever was set), without waiting for the write. */
  now(): void {
    this.#at = Date.now();
    void this.storage.setAlarm(this.#at);
  }

  /** Called first thing in `alarm()`: the alarm that rang is no longer set. */
  rang(): void {
    this.#at = null;
  }
}
