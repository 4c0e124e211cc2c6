/**
 * @module
 * An `id_token_hint` (RP-Initiated Logout 1.0 §2): one of our id_tokens, given back by the
 * client it was issued to. Verified by a key of our ring (`SIGNING_KEY` or `SIGNING_KEY_PREVIOUS`,
 * picked by `kid`, only that key's algorithm), of `typ` `JWT` (an access token is too, but its
 * audience is no client; a logout token or a statement of ours has its own `typ`), issued by
 * us, naming a user and a session. Its `exp` is not checked: the spec accepts an expired
 * id_token as a hint (it is sent when the RP's session ends, often long after the sign-in).
 */
import type { Context } from 'hono';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { AppEnv } from '../http/app-env';
import { keyRing } from './keys';
import { tokenIssuer } from './signing';
import { publicKey } from './verify';

/** What a hint names: the user, the session its id_tokens named, and the clients it was issued to. */
export interface IdTokenHint {
  sub: string;
  sid: string;
  aud: string[];
}

/** The hint's claims, or null for anything that is not an id_token of ours (forged, another kind, malformed). */
export async function readIdTokenHint(c: Context<AppEnv>, token: string): Promise<IdTokenHint | null> {
  try {
    const header = decodeProtectedHeader(token);
    if (header.typ !== undefined && header.typ !== 'JWT') return null;
    const jwk = keyRing(c.env).verifying.find((k) => k.kid === header.kid && k.alg === header.alg);
    if (!jwk) return null;
    const { payload } = await compactVerify(token, await publicKey(jwk), { algorithms: [jwk.alg] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (
      claims.iss !== tokenIssuer(c) ||
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string' ||
      !Array.isArray(aud) ||
      !aud.every((a) => typeof a === 'string') ||
      // A logout token is no id_token, whatever its header says.
      claims.events !== undefined
    ) {
      return null;
    }
    return { sub: claims.sub, sid: claims.sid, aud: aud as string[] };
  } catch {
    return null;
  }
}
