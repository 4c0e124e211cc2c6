/**
 * @module
 * A site's JWKS (`IDENTITY_JWKS_URL`), cached per isolate the way jose's `createRemoteJWKSet`
 * caches, with its cooldown applied to failures too: the URL is fetched at most once every
 * 30 s, whatever happens (an error status, HTML, a set without keys, a hang, a redirect), so that
 * neither a broken JWKS nor a stream of forged tokens turns requests into fetches.
 *
 * - A fetched set is kept for its `Cache-Control: max-age`, at least 5 minutes, at most a day.
 * - A stale set, or a token whose `kid` it lacks (a rotation), fetches it again when the
 *   cooldown allows; until then (and while a fetch is under way) the last good keys serve.
 * - A fetch that fails keeps the last good keys. With none, the answer is 503 with `Retry-After`
 *   saying when the next fetch may happen. Each failure is logged once, not once per request.
 * - Concurrent requests share one fetch, and none waits on it longer than the fetch's own
 *   timeout (5 s): a fetch whose request went away before it settled is not waited on forever.
 * - A redirect is not followed: the keys are trusted only from the configured address.
 *
 * Keys are chosen by jose's `createLocalJWKSet` (by `kid`, `alg` and `use`, never by guessing).
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { readBody } from '../http/body';
import { ApiError } from '../http/errors';

/** The shortest time a fetched set is trusted, whatever its Cache-Control says. */
export const MIN_MAX_AGE_MS = 5 * 60_000;
/** The longest, so that a site's rotation is eventually seen even with a huge max-age. */
const MAX_MAX_AGE_MS = 24 * 60 * 60_000;
/** The least time between the starts of two fetches, whatever their outcome. */
export const COOLDOWN_MS = 30_000;
/** How long a fetch (answer and body) may take, and the longest any request waits on one. */
export const FETCH_TIMEOUT_MS = 5_000;
/** A key set is a few KB; a URL that serves more (a page, a file) is not one, and is not read on. */
const MAX_SET_BYTES = 256 * 1024;

interface Entry {
  keys: JWTVerifyGetKey | null;
  /** The `kid`s of the set, to tell an unknown `kid` from a key that does not fit the token. */
  kids: Set<string>;
  freshUntil: number;
  /** When the last fetch started, whatever came of it: the next starts `COOLDOWN_MS` later. */
  lastFetch: number;
  inflight: Promise<void> | null;
}

const cache = new Map<string, Entry>();

/** Why a fetch of the set gave no keys, in words for the log. */
class JwksFailure extends Error {}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function maxAgeMs(res: Response): number {
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(res.headers.get('Cache-Control') ?? '');
  const declared = m ? Number(m[1]) * 1000 : 0;
  return Math.min(MAX_MAX_AGE_MS, Math.max(MIN_MAX_AGE_MS, declared));
}

/** The set at `url`, or a `JwksFailure` saying why not. */
async function fetchSet(url: string, signal: AbortSignal) {
  const late = () => new JwksFailure(`gave no answer within ${FETCH_TIMEOUT_MS / 1000} s`);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { Accept: 'application/json, application/jwk-set+json' },
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    throw signal.aborted ? late() : new JwksFailure(`could not be reached (${messageOf(err)})`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    const location = res.headers.get('Location');
    throw new JwksFailure(
      res.status >= 300 && res.status < 400
        ? `answered ${res.status}, a redirect${location ? ` to ${location.slice(0, 200)}` : ''}, which is not ` +
            'followed: set IDENTITY_JWKS_URL to the address that serves the keys'
        : `answered ${res.status}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder().decode(
      await readBody(res.body, { maxBytes: MAX_SET_BYTES, deadlineMs: FETCH_TIMEOUT_MS }),
    );
  } catch (err) {
    if (signal.aborted || (err instanceof ApiError && err.code === 'request_timeout')) throw late();
    if (err instanceof ApiError) throw new JwksFailure(`answered more than ${MAX_SET_BYTES / 1024} KB`);
    throw new JwksFailure(`broke off its answer (${messageOf(err)})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new JwksFailure(
      `answered something that is not JSON (${res.headers.get('Content-Type') ?? 'no Content-Type'})`,
    );
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new JwksFailure('answered a set without keys');
  let verify: JWTVerifyGetKey;
  try {
    verify = createLocalJWKSet(body as JSONWebKeySet);
  } catch (err) {
    throw new JwksFailure(`answered something that is not a JSON Web Key Set (${messageOf(err)})`);
  }
  const kids = keys.map((k: { kid?: unknown } | null) => k?.kid).filter((k) => typeof k === 'string');
  return { verify, kids: new Set(kids), maxAge: maxAgeMs(res) };
}

/** Fetches the set into `entry`; never rejects: a failure is logged and leaves the last keys. */
async function load(url: string, entry: Entry): Promise<void> {
  entry.lastFetch = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const set = await fetchSet(url, controller.signal);
    entry.keys = set.verify;
    entry.kids = set.kids;
    entry.freshUntil = Date.now() + set.maxAge;
  } catch (err) {
    const why = err instanceof JwksFailure ? err.message : `failed (${messageOf(err)})`;
    const meanwhile = entry.keys ? 'its last good keys still serve' : 'site tokens are answered 503';
    console.error(
      `identity: the JWKS at ${url} ${why}; ${meanwhile} until it is fetched again in ${COOLDOWN_MS / 1000} s.`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The fetch under way, if any. One older than its timeout belonged to a request that went away. */
function inflight(entry: Entry): Promise<void> | null {
  if (entry.inflight && Date.now() - entry.lastFetch > FETCH_TIMEOUT_MS) entry.inflight = null;
  return entry.inflight;
}

const mayFetch = (entry: Entry) => Date.now() - entry.lastFetch >= COOLDOWN_MS;

/** Joins the fetch under way, or starts one; waits for it at most `FETCH_TIMEOUT_MS`. */
async function refresh(url: string, entry: Entry): Promise<void> {
  let running = inflight(entry);
  if (!running) {
    const started = load(url, entry).finally(() => {
      if (entry.inflight === started) entry.inflight = null;
    });
    running = entry.inflight = started;
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, FETCH_TIMEOUT_MS)))]);
  clearTimeout(timer);
}

/** 503, until the next fetch may happen. */
function unavailable(entry: Entry): ApiError {
  const seconds = Math.max(1, Math.ceil((entry.lastFetch + COOLDOWN_MS - Date.now()) / 1000));
  return new ApiError(
    'service_unavailable',
    'The site’s sign-in keys cannot be fetched right now; try again shortly.',
    { 'Retry-After': String(seconds) },
    'site_keys_unavailable',
  );
}

async function currentKeys(url: string, entry: Entry): Promise<JWTVerifyGetKey> {
  if (entry.keys && Date.now() < entry.freshUntil) return entry.keys;
  // Stale or never fetched: fetch when the cooldown allows. With stale keys to serve, nobody
  // waits on a fetch that another request started; with none, everybody does.
  if (inflight(entry) ? !entry.keys : mayFetch(entry)) await refresh(url, entry);
  if (entry.keys) return entry.keys;
  throw unavailable(entry);
}

/** The key-selection function for `jwtVerify` over the JWKS at `url`. */
export function remoteKeys(url: string): JWTVerifyGetKey {
  let entry = cache.get(url);
  if (!entry) {
    entry = { keys: null, kids: new Set(), freshUntil: 0, lastFetch: -Infinity, inflight: null };
    cache.set(url, entry);
  }
  const e = entry;
  return async (header, token) => {
    let keys = await currentKeys(url, e);
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // The site may have rotated in a key we have not seen: look again, within the cooldown.
      if (inflight(e) || mayFetch(e)) {
        await refresh(url, e);
        keys = e.keys ?? keys;
        try {
          return await keys(header, token);
        } catch (again) {
          if (!(again instanceof errors.JWKSNoMatchingKey)) throw again;
        }
      }
      // A key of that kid exists, only not for this algorithm: say so, not "unknown kid".
      if (typeof header.kid === 'string' && e.kids.has(header.kid)) {
        throw new errors.JOSEAlgNotAllowed(`the key "${header.kid}" is not a key for ${header.alg}`);
      }
      throw err;
    }
  };
}

/** Forgets every cached set (tests). */
export function clearJwksCache(): void {
  cache.clear();
}
