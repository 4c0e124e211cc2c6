/**
 * @module
 * DPoP proofs (RFC 9449): the one place that reads the `DPoP` header of a request and says which
 * key proved it (its JWK SHA-256 thumbprint, `jkt`), or why not. Checked in the order of
 * node-oidc-provider's `validate_dpop.js`: one compact JWS of bounded size → header (`typ:
 * dpop+jwt`, ES256 or EdDSA/Ed25519, a public `jwk` of that kind and nothing private) → signature
 * by that embedded key (`jose`'s `EmbeddedJWK`) → `htm`, `htu` (without query and fragment),
 * `jti` → `iat` within `DPOP_WINDOW_S` → the server's nonce (`DPOP_NONCE=on`) → `ath` on a
 * resource request → the key a bound token names → the `jti` never seen before (`DpopReplay`,
 * asked last so that a refused proof costs no write). Refusals are `DpopError`:
 * `invalid_dpop_proof`, or `use_dpop_nonce` with a fresh nonce to send back in `DPoP-Nonce`.
 *
 * A request without the header costs nothing here: no object is asked, no key imported.
 */
import type { Context } from 'hono';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify } from 'jose';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { base64url, constantTimeEqual } from '../http/crypto';
import { ApiError } from '../http/errors';
import { callObject } from '../http/object-call';
import { publicOrigin } from '../http/site';
import type { AuthScheme } from '../http/validate';
import { keyRing } from './keys';

/** The proof algorithms accepted (`Ed25519` is the fully specified name of `EdDSA` with that curve). */
export const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519'] as const;
/** What `WWW-Authenticate: DPoP … algs="…"` announces. */
export const DPOP_ALGS_ANNOUNCED = 'ES256 EdDSA';
/** How far a proof's `iat` may be from now, either way. */
export const DPOP_WINDOW_S = 60;
/** The longest `DPoP` header read: an ES256 proof is about 600 characters; a 10 KB one is refused unread. */
export const MAX_PROOF_CHARS = 4096;
/** The longest `jti` kept (a UUID or 16+ random bytes is what clients send). */
const MAX_JTI_CHARS = 256;
/** How long a server nonce is accepted (it is a minute's bucket; the current one and the previous ones). */
const NONCE_BUCKET_MS = 60_000;
const NONCE_BUCKETS_ACCEPTED = 3;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Members of a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a proof must carry none. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** The kind of key each algorithm needs. */
const KEY_KIND: Record<(typeof DPOP_ALGS)[number], { kty: string; crv: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * A refused proof: its RFC 9449 code and why. Where tokens are issued it is a 400 with, for
 * `use_dpop_nonce`, the nonce to use (`DPoP-Nonce`); at a resource (an access token, a bound
 * login's poll) a 401 with `WWW-Authenticate: DPoP error=…, algs=…` as well (RFC 9449 §7.1).
 */
export class DpopError extends ApiError {
  constructor(
    override readonly code: DpopErrorCode,
    message: string,
    readonly nonce: string | null = null,
    resource = false,
  ) {
    const headers: Record<string, string> = resource ? dpopChallenge({ code, message }) : {};
    if (nonce) headers['DPoP-Nonce'] = nonce;
    super(code, message, headers, undefined, resource ? 401 : 400);
  }
}

/** A proof that passed every check. */
export interface DpopProof {
  /** The JWK SHA-256 thumbprint (RFC 7638) of the key that signed it: what tokens are bound to. */
  jkt: string;
  jti: string;
  iat: number;
}

/** Whether `DPOP_NONCE` asks for server nonces. */
export const dpopNonceOn = (env: Env): boolean => env.DPOP_NONCE === 'on';

const encoder = new TextEncoder();

/** base64url(SHA-256(text)): a proof's `ath` for an access token (RFC 9449 §4.2). */
export async function sha256B64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

// ---------------------------------------------------------------- nonces

const nonceKeys = new Map<string, Promise<CryptoKey>>();

/** The nonce MAC key: derived from the current signing key, so every isolate and location agrees without storage. */
function nonceKey(env: Env): Promise<CryptoKey> {
  const { current } = keyRing(env);
  let key = nonceKeys.get(current.kid);
  if (!key) {
    key = crypto.subtle
      .digest('SHA-256', encoder.encode(`dpop-nonce:${current.d}`))
      .then((raw) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));
    nonceKeys.set(current.kid, key);
  }
  return key;
}

async function nonceFor(env: Env, bucket: number): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await nonceKey(env), encoder.encode(`${bucket}`));
  return `${bucket.toString(36)}.${base64url(new Uint8Array(mac).subarray(0, 16))}`;
}

/** A nonce the server will accept for the next few minutes (RFC 9449 §8). */
export const newDpopNonce = (env: Env): Promise<string> => nonceFor(env, Math.floor(Date.now() / NONCE_BUCKET_MS));

/** Whether `nonce` is one of ours and still fresh. */
async function validNonce(env: Env, nonce: unknown): Promise<boolean> {
  if (typeof nonce !== 'string' || nonce.length > 64) return false;
  const bucket = Number.parseInt(nonce.split('.')[0] ?? '', 36);
  const now = Math.floor(Date.now() / NONCE_BUCKET_MS);
  if (!Number.isSafeInteger(bucket) || bucket > now || bucket <= now - NONCE_BUCKETS_ACCEPTED) return false;
  return constantTimeEqual(nonce, await nonceFor(env, bucket));
}

// ---------------------------------------------------------------- the proof

const refuse = (message: string) => new DpopError('invalid_dpop_proof', message);

/** The proof's header, checked before any signature work. */
function checkedHeader(proof: string): { alg: string; jwk: JWK } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw refuse('The DPoP proof is not a JWT.');
  }
  if (header.typ !== 'dpop+jwt') throw refuse('The DPoP proof must have typ "dpop+jwt".');
  const alg = header.alg ?? '';
  if (!(DPOP_ALGS as readonly string[]).includes(alg)) {
    throw refuse(`The DPoP proof must be signed with ${DPOP_ALGS.join(', ')}: not ${alg || 'none'}.`);
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw refuse('The DPoP proof carries no jwk.');
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) {
    throw refuse("The DPoP proof's jwk must be a public key: it carries a private part.");
  }
  const kind = KEY_KIND[alg as (typeof DPOP_ALGS)[number]];
  if (jwk.kty !== kind.kty || jwk.crv !== kind.crv) throw refuse(`The DPoP proof's jwk is not a ${kind.crv} key.`);
  return { alg, jwk };
}

/** The request's URL as `htu` names it: without query and fragment, at the request's origin or the public one. */
function htuMatches(c: Context<AppEnv>, htu: unknown): boolean {
  if (typeof htu !== 'string') return false;
  let url: URL;
  try {
    url = new URL(htu);
  } catch {
    return false;
  }
  const here = new URL(c.req.url);
  if (url.pathname !== here.pathname) return false;
  return url.origin === here.origin || url.origin === publicOrigin(c);
}

/** What a proof must say about the request besides its method and URL. */
export interface ProofExpectations {
  /** The access token sent beside it (a resource request): the proof's `ath` must be its hash. */
  accessToken?: string;
  /** A resource request (also implied by `accessToken`): refusals are 401 with `WWW-Authenticate: DPoP`. */
  resource?: boolean;
  /** The key the proof must be of (a bound token's `cnf.jkt`): another key's is refused before the store is asked. */
  jkt?: string;
}

/**
 * The proof of `c`'s `DPoP` header, checked all the way (see the module's order), or null when
 * the request carries none. Refusals are `DpopError`.
 */
export async function dpopProof(c: Context<AppEnv>, expect: ProofExpectations = {}): Promise<DpopProof | null> {
  const proof = c.req.header('DPoP');
  if (proof === undefined) return null;
  try {
    return await checkProof(c, proof, expect);
  } catch (err) {
    if (!(err instanceof DpopError) || !(expect.resource || expect.accessToken !== undefined)) throw err;
    throw new DpopError(err.code, err.message, err.nonce, true);
  }
}

async function checkProof(c: Context<AppEnv>, proof: string, expect: ProofExpectations): Promise<DpopProof> {
  if (proof.length > MAX_PROOF_CHARS) throw refuse(`The DPoP proof is longer than ${MAX_PROOF_CHARS} characters.`);
  if (!COMPACT_JWS.test(proof)) throw refuse('The DPoP header must be one compact JWT.');
  const { jwk } = checkedHeader(proof);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGS] }));
  } catch {
    throw refuse("The DPoP proof's signature does not verify with its jwk.");
  }
  if (payload.htm !== c.req.method) throw refuse(`The DPoP proof's htm must be ${c.req.method}.`);
  if (!htuMatches(c, payload.htu)) throw refuse("The DPoP proof's htu is not this endpoint's URL.");
  const { jti, iat } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_CHARS) {
    throw refuse('The DPoP proof needs a jti.');
  }
  const nonces = dpopNonceOn(c.env);
  const askNonce = async (message: string) => new DpopError('use_dpop_nonce', message, await newDpopNonce(c.env));
  if (typeof iat !== 'number' || Math.abs(Date.now() / 1000 - iat) > DPOP_WINDOW_S) {
    const message = `The DPoP proof's iat must be within ${DPOP_WINDOW_S} s of now.`;
    throw nonces ? await askNonce(message) : refuse(message);
  }
  if (nonces && !(await validNonce(c.env, payload.nonce))) {
    throw await askNonce('Sign the DPoP proof with the nonce of the DPoP-Nonce header.');
  }
  if (expect.accessToken !== undefined) {
    const ath = await sha256B64url(expect.accessToken);
    if (typeof payload.ath !== 'string' || !constantTimeEqual(payload.ath, ath)) {
      throw refuse("The DPoP proof's ath is not the hash of the access token sent with it.");
    }
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  if (expect.jkt !== undefined && jkt !== expect.jkt) {
    throw refuse("The DPoP proof is signed by another key than the token's.");
  }
  const fresh = await callObject('DPoP replay store', () =>
    replayStore(c.env, jkt).remember(jti, (iat + DPOP_WINDOW_S) * 1000 + 1000),
  );
  if (!fresh) throw refuse('This DPoP proof was already used: make a new one for each request.');
  return { jkt, jti, iat };
}

/** The object that remembers the `jti`s of one key's proofs (see `dpop-replay.ts`). */
const replayStore = (env: Env, jkt: string) => env.DPOP_REPLAY.get(env.DPOP_REPLAY.idFromName(jkt));

/** The challenge a resource answers a refusal with (RFC 9449 §7.1): `WWW-Authenticate: DPoP error=…, algs=…`. */
export function dpopChallenge({ code, message }: { code: string; message: string }): Record<string, string> {
  const description = message.replace(/["\\]/g, '');
  return {
    'WWW-Authenticate': `DPoP error="${code}", error_description="${description}", algs="${DPOP_ALGS_ANNOUNCED}"`,
  };
}

/**
 * The key a request to an endpoint that issues tokens proved (`/oauth/token`, `/oauth/par`,
 * `/oauth/device_authorization`, `POST /api/qrcodes`), or null without a proof; `required` (a
 * client registered with `dpop_bound_access_tokens`) refuses a request without one.
 */
export async function provedKey(c: Context<AppEnv>, required = false): Promise<string | null> {
  const proof = await dpopProof(c);
  if (!proof && required) {
    throw refuse('This client is registered with dpop_bound_access_tokens: send a DPoP proof with each token request.');
  }
  return proof?.jkt ?? null;
}

/**
 * Whether an access token of ours may be presented as it was (RFC 9449 §7): a token bound to a
 * key (`cnf.jkt`) only as `Authorization: DPoP` with a proof of that key whose `ath` is its hash;
 * a bearer token only as `Bearer`. Refusals are 401 with `WWW-Authenticate: DPoP` (and its
 * nonce, with `DPOP_NONCE=on`). A bearer token sent as `Bearer` asks nothing of anyone.
 */
export async function checkPresentation(
  c: Context<AppEnv>,
  scheme: AuthScheme,
  token: string,
  cnf: { jkt: string } | undefined,
): Promise<void> {
  if (!cnf) {
    if (scheme === 'DPoP') throw invalidToken('This access token is not bound to a DPoP key: send it as Bearer.');
    return;
  }
  if (scheme !== 'DPoP') {
    throw invalidToken('This access token is bound to a DPoP key: send it as Authorization: DPoP with a proof.');
  }
  const proof = await dpopProof(c, { accessToken: token, jkt: cnf.jkt });
  if (!proof) throw new DpopError('invalid_dpop_proof', "Send a DPoP proof of the token's key with it.", null, true);
}

/** 401 `invalid_token` with its `WWW-Authenticate: DPoP` challenge. */
function invalidToken(message: string): ApiError {
  return new ApiError('invalid_token', message, dpopChallenge({ code: 'invalid_token', message }));
}
