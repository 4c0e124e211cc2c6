/**
 * @module
 * The code to type (RFC 8628's `user_code`): 8 letters from 20 consonants, and `UserCode`,
 * the Durable Object named after one code that points to its QR login. No global table:
 * each code's object lives exactly as long as its session and forgets it at the end.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** A random code, without the dash. 20^8 ≈ 2.6 × 10^10 possibilities. */
export function newUserCode(): string {
  // 20 divides 2^32 unevenly; drawing from the first 4,294,967,280 values keeps it uniform.
  const limit = 2 ** 32 - (2 ** 32 % USER_CODE_ALPHABET.length);
  let code = '';
  while (code.length < LENGTH) {
    const n = crypto.getRandomValues(new Uint32Array(1))[0]!;
    if (n < limit) code += USER_CODE_ALPHABET[n % USER_CODE_ALPHABET.length];
  }
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`, as people read and type it. */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/** What a person typed, without case, dashes or spaces; null when it cannot be a code. */
export function normalizeUserCode(typed: string): string | null {
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  return code.length === LENGTH && [...code].every((ch) => USER_CODE_ALPHABET.includes(ch)) ? code : null;
}

interface Pointer {
  qrcode_id: string;
  expires_at: number;
}

export class UserCode extends DurableObject<Env> {
  #read(): Pointer | null {
    const p = this.ctx.storage.kv.get<Pointer>('pointer') ?? null;
    return p && Date.now() < p.expires_at ? p : null;
  }

  /** Points this code at a session until `expiresAt`; false if the code is already in use. */
  async claim(qrcodeId: string, expiresAt: number): Promise<boolean> {
    if (this.#read()) return false;
    this.ctx.storage.kv.put('pointer', { qrcode_id: qrcodeId, expires_at: expiresAt } satisfies Pointer);
    await this.ctx.storage.setAlarm(expiresAt);
    return true;
  }

  /** The QR id this code stands for, while its session is open. */
  resolve(): string | null {
    return this.#read()?.qrcode_id ?? null;
  }

  /** The session ended: forget the code now. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    await this.forget();
  }
}

/** The object named after a typed code (it points to that code's login, while it lasts). */
export const userCodeObject = (env: Env, code: string): DurableObjectStub<UserCode> =>
  env.USER_CODE.get(env.USER_CODE.idFromName(code));
