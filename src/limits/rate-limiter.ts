/**
 * @module
 * `RateLimiter`: fixed-window counters shared by every Worker isolate, one Durable Object per
 * counted party (`ip:<address>`, `username:<name>`, `user:<id>`), each holding the counters of
 * that party by name. An event is counted before the work it guards runs, in one synchronous
 * step, so concurrent requests cannot all pass the check before the first is counted; the
 * counters live in the object's storage, so eviction or a restart does not reset them; an alarm
 * at the end of the earliest open window deletes finished windows, and the whole storage once
 * none is left.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { AlarmClock } from '../http/alarm-clock';

/** One counter to count an event in: its name inside this object, its maximum and its window. */
export interface Count {
  key: string;
  max: number;
  windowMs: number;
}

/** Where an event was counted: enough to give it back while its window lasts. */
export interface Counted {
  key: string;
  start: number;
}

/** Counted in every counter asked for, or refused by at least one (and counted in none). */
export type TakeResult = { allowed: true; counted: Counted[] } | { allowed: false; retryAfter: number };

interface Window {
  start: number;
  count: number;
  windowMs: number;
}

const PREFIX = 'c:';

export class RateLimiter extends DurableObject<Env> {
  readonly #alarm = new AlarmClock(this.ctx.storage);

  #window(key: string, windowMs: number, now: number): Window {
    const stored = this.ctx.storage.kv.get<Window>(PREFIX + key);
    // A finished window is as good as none: lazy expiry, whatever the alarm did.
    if (!stored || now >= stored.start + stored.windowMs) return { start: now, count: 0, windowMs };
    return stored;
  }

  /**
   * Counts one event in every counter of `counts` if each has room, else in none. After the one
   * await that learns where the alarm is, the decision and its writes (counters and alarm) run
   * in one synchronous step: the object's single thread makes it atomic, and the writes are
   * committed together.
   */
  async take(counts: Count[]): Promise<TakeResult> {
    await this.#alarm.know();
    const now = Date.now();
    const windows = counts.map((c) => this.#window(c.key, c.windowMs, now));
    const full = windows.filter((w, i) => w.count >= counts[i]!.max);
    if (full.length > 0) {
      const until = Math.max(...full.map((w) => w.start + w.windowMs));
      return { allowed: false, retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
    }
    counts.forEach((c, i) => {
      const w = windows[i]!;
      this.ctx.storage.kv.put(PREFIX + c.key, { ...w, count: w.count + 1 });
    });
    await this.#alarm.by(Math.min(...windows.map((w) => w.start + w.windowMs)));
    return { allowed: true, counted: windows.map((w, i) => ({ key: counts[i]!.key, start: w.start })) };
  }

  /** Takes back events that `take` counted, if their window is still the current one. */
  giveBack(counted: Counted[]): void {
    const now = Date.now();
    for (const { key, start } of counted) {
      const stored = this.ctx.storage.kv.get<Window>(PREFIX + key);
      if (!stored || stored.start !== start || stored.count === 0 || now >= stored.start + stored.windowMs) continue;
      this.ctx.storage.kv.put(PREFIX + key, { ...stored, count: stored.count - 1 });
    }
  }

  /**
   * Deletes the finished windows and sets the next alarm; when every window is over, one
   * `deleteAll()` empties the storage instead (each `delete` is a billed row write).
   */
  override async alarm(): Promise<void> {
    this.#alarm.rang();
    const now = Date.now();
    const windows = [...this.ctx.storage.kv.list<Window>({ prefix: PREFIX })];
    const open = windows.map(([, w]) => w.start + w.windowMs).filter((end) => now < end);
    if (open.length === 0) {
      // Nothing left: free the storage, with no take running in between whose count it would lose.
      await this.ctx.blockConcurrencyWhile(() => this.ctx.storage.deleteAll());
      return;
    }
    for (const [key, w] of windows) if (now >= w.start + w.windowMs) this.ctx.storage.kv.delete(key);
    return this.#alarm.by(Math.min(...open));
  }
}
