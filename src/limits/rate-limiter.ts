/**
 * @module
 * `RateLimiter`: a fixed-window counter shared by every Worker isolate, one Durable Object
 * per counted key (for example `qrcode:<ip>` or `login:<ip>:<username>`). Counts live in
 * memory: an evicted counter starts again at zero, which only ever errs towards letting a
 * client through after a long quiet spell.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

/** Whether a request may go ahead, and if not, how many seconds until it may. */
export interface LimitVerdict {
  allowed: boolean;
  retryAfter: number;
}

export class RateLimiter extends DurableObject<Env> {
  #windowStart = 0;
  #count = 0;

  #window(windowMs: number): void {
    const now = Date.now();
    if (now - this.#windowStart >= windowMs) {
      this.#windowStart = now;
      this.#count = 0;
    }
  }

  #verdict(allowed: boolean, windowMs: number): LimitVerdict {
    const retryAfter = Math.max(1, Math.ceil((this.#windowStart + windowMs - Date.now()) / 1000));
    return { allowed, retryAfter };
  }

  /** Counts one event; refuses it when `max` were already counted in this window. */
  hit(max: number, windowMs: number): LimitVerdict {
    this.#window(windowMs);
    if (this.#count >= max) return this.#verdict(false, windowMs);
    this.#count++;
    return this.#verdict(true, windowMs);
  }

  /** Whether another event would be allowed, without counting one. */
  peek(max: number, windowMs: number): LimitVerdict {
    this.#window(windowMs);
    return this.#verdict(this.#count < max, windowMs);
  }
}
