/**
 * @module
 * A site's JWKS (`IDENTITY_JWKS_URL`), cached per isolate the way jose's `createRemoteJWKSet`
 * caches: never fetched per request. A fetched set is kept for its `Cache-Control: max-age`, at
 * least 5 minutes; a token with an unknown `kid` refetches it at most once every 30 s; concurrent
 * requests share one fetch; a set that cannot be refreshed keeps serving its last good keys.
 * Keys are chosen by jose's `createLocalJWKSet` (by `kid`, `alg` and `use`, never by guessing).
 */
import { createLocalJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import { UnavailableError } from '../errors';

/** The shortest time a fetched set is trusted, whatever its Cache-Control says. */
export const MIN_MAX_AGE_MS = 5 * 60_000;
/** The longest, so that a site's rotation is eventually seen even with a huge max-age. */
const MAX_MAX_AGE_MS = 24 * 60 * 60_000;
/** The least time between two fetches caused by unknown `kid`s. */
export const COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

interface Entry {
  keys: JWTVerifyGetKey | null;
  freshUntil: number;
  lastFetch: number;
  inflight: Promise<void> | null;
}

const cache = new Map<string, Entry>();

function maxAgeMs(res: Response): number {
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(res.headers.get('Cache-Control') ?? '');
  const declared = m ? Number(m[1]) * 1000 : 0;
  return Math.min(MAX_MAX_AGE_MS, Math.max(MIN_MAX_AGE_MS, declared));
}

async function load(url: string, entry: Entry): Promise<void> {
  entry.lastFetch = Date.now();
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (err) {
    throw new UnavailableError(`JWKS ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) throw new UnavailableError(`JWKS ${url} answered ${res.status}`);
  let keys: JWTVerifyGetKey;
  try {
    keys = createLocalJWKSet(await res.json());
  } catch (err) {
    throw new UnavailableError(`JWKS ${url} is not a JSON Web Key Set: ${err instanceof Error ? err.message : err}`);
  }
  entry.keys = keys;
  entry.freshUntil = Date.now() + maxAgeMs(res);
}

/** Fetches once for everyone waiting; a failure leaves the previous keys in place. */
function refresh(url: string, entry: Entry): Promise<void> {
  entry.inflight ??= load(url, entry).finally(() => {
    entry.inflight = null;
  });
  return entry.inflight;
}

async function currentKeys(url: string, entry: Entry): Promise<JWTVerifyGetKey> {
  if (!entry.keys || Date.now() >= entry.freshUntil) {
    try {
      await refresh(url, entry);
    } catch (err) {
      // Stale keys beat no keys: only a set never fetched makes the request fail (503).
      if (!entry.keys) throw err;
      console.warn(`identity: serving cached JWKS: ${err instanceof Error ? err.message : err}`);
    }
  }
  return entry.keys!;
}

/** The key-selection function for `jwtVerify` over the JWKS at `url`. */
export function remoteKeys(url: string): JWTVerifyGetKey {
  let entry = cache.get(url);
  if (!entry) {
    entry = { keys: null, freshUntil: 0, lastFetch: 0, inflight: null };
    cache.set(url, entry);
  }
  const e = entry;
  return async (header, token) => {
    const keys = await currentKeys(url, e);
    try {
      return await keys(header, token);
    } catch (err) {
      // The site may have rotated in a key we have not seen: look again, but not too often.
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - e.lastFetch < COOLDOWN_MS) throw err;
      await refresh(url, e).catch(() => undefined);
      return e.keys!(header, token);
    }
  };
}

/** Forgets every cached set (tests). */
export function clearJwksCache(): void {
  cache.clear();
}
