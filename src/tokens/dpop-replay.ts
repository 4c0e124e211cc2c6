/**
 * @module
 * `DpopReplay`: one Durable Object per DPoP key (named by its JWK thumbprint, `jkt`) that
 * remembers the `jti` of each proof that key signed until the proof's `iat` window is over, so
 * that a proof is accepted once (RFC 9449 §11.1). A Durable Object name exists once in the
 * world: a proof replayed at another location reaches this same object, where a per-isolate
 * map or an eventually consistent store (KV) would not see the first use in time. Keyed by the
 * key, not by one shared object: each client's proofs land on its own object (created near it),
 * and only someone holding the private key can make proofs that reach it, since the signature is
 * checked before any object is asked.
 *
 * Cost: one call and one row written per proof; one alarm forgets the window's `jti`s after it,
 * and an object whose key stopped proving is emptied entirely.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

const PREFIX = 'jti:';

export class DpopReplay extends DurableObject<Env> {
  /**
   * Whether `jti` is new: then it is remembered until `until` (epoch ms) and the answer is true;
   * a `jti` seen before (and not yet forgotten) answers false. Decided before the first await,
   * so of two concurrent uses of one proof exactly one is fresh.
   */
  async remember(jti: string, until: number): Promise<boolean> {
    const key = PREFIX + jti;
    const seen = this.ctx.storage.kv.get<number>(key);
    if (seen !== undefined && seen > Date.now()) return false;
    this.ctx.storage.kv.put(key, until);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) await this.ctx.storage.setAlarm(until);
    return true;
  }

  /** Forgets the `jti`s whose window is over; empties the object once none is left. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [key, until] of this.ctx.storage.kv.list<number>({ prefix: PREFIX })) {
      if (until <= now) this.ctx.storage.kv.delete(key);
      else next = Math.min(next, until);
    }
    if (next === Number.POSITIVE_INFINITY) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(next);
  }
}
