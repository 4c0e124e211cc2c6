/**
 * @module
 * `PasskeyChallenge`: one Durable Object per challenge of a passkey sign-in. When the phone (or
 * the PC's `<qr-login passkey>`) asks to sign in with a passkey, no user is known yet, so the
 * challenge cannot live in a user's object: it lives here, single-use, for five minutes, and
 * the object forgets itself by an alarm. The challenge names its object (its first 32 bytes
 * are the object's id, the next 16 are random), so a sign-in finds it without any shared table,
 * and a made-up challenge never wakes an object (`idFromString` refuses an id this namespace
 * did not issue).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { base64url, fromBase64url } from '../http/crypto';
import { namedObject } from '../http/named-object';
import { CHALLENGE_TTL_MS } from '../user/passkey-store';

const KEY = 'challenge';

interface Stored {
  challenge: string;
  expires_at: number;
}

export class PasskeyChallenge extends DurableObject<Env> {
  /** Keeps `challenge` until `expiresAt`. */
  async keep(challenge: string, expiresAt: number): Promise<void> {
    this.ctx.storage.kv.put<Stored>(KEY, { challenge, expires_at: expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
  }

  /** Spends `challenge`: true once, while it lives; false for anything else, and then nothing changes. */
  take(challenge: string): boolean {
    const stored = this.ctx.storage.kv.get<Stored>(KEY);
    if (stored?.challenge !== challenge || Date.now() >= stored.expires_at) return false;
    this.ctx.storage.kv.delete(KEY);
    return true;
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

/** A new sign-in challenge, kept in an object of its own for five minutes. */
export async function newSignInChallenge(env: Env): Promise<{ challenge: string; expires_at: number }> {
  const id = env.PASSKEY_CHALLENGE.newUniqueId();
  const idBytes = Uint8Array.from(id.toString().match(/../g)!, (hex) => Number.parseInt(hex, 16));
  const challenge = base64url(new Uint8Array([...idBytes, ...crypto.getRandomValues(new Uint8Array(16))]));
  const expiresAt = Date.now() + CHALLENGE_TTL_MS;
  await env.PASSKEY_CHALLENGE.get(id).keep(challenge, expiresAt);
  return { challenge, expires_at: expiresAt };
}

/** The object a sign-in challenge names, or null for a challenge this Worker did not make. */
export function signInChallengeObject(env: Env, challenge: string): DurableObjectStub<PasskeyChallenge> | null {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(challenge);
  } catch {
    return null;
  }
  if (bytes.byteLength !== 48) return null;
  const hex = Array.from(bytes.subarray(0, 32), (b) => b.toString(16).padStart(2, '0')).join('');
  return namedObject(env.PASSKEY_CHALLENGE, hex);
}
