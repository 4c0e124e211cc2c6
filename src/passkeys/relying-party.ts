/**
 * @module
 * Who the passkeys belong to (the WebAuthn relying party) and where a ceremony may take place:
 * `PASSKEY_RP_ID` (default the public origin's host, or a registrable parent of it),
 * `PASSKEY_RP_NAME` (default `SITE_NAME`), and the origins whose pages may use them: the
 * Worker's own, and those of `ALLOWED_ORIGINS` whose host is the RP ID or under it (a site's
 * page hosting `<qr-login passkey>`). Also `CONFIRM_WITH`: what confirming a login needs.
 */
import { commaList, type Env } from '../env';
import { type ConfigCheck, parsed } from '../http/config-check';
import { ConfigError } from '../http/errors';
import { siteName } from '../http/site';

/** The relying party of every ceremony: its id, its name, and the origins a ceremony may come from. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/** Whether `host` is `rpId` or a subdomain of it (WebAuthn's "registrable domain suffix" test, without a public-suffix list). */
const isUnder = (host: string, rpId: string) => host === rpId || host.endsWith(`.${rpId}`);

/** The host of an origin, or null for something that is not one. */
function hostOf(origin: string): string | null {
  try {
    return new URL(origin).hostname;
  } catch {
    return null;
  }
}

/**
 * The relying party for a Worker reached at `publicOrigin`. A `PASSKEY_RP_ID` that is not the
 * public host nor a parent of it could never be used by the Worker's own pages: a logged 500.
 */
export function relyingParty(env: Env, publicOrigin: string): RelyingParty {
  const host = hostOf(publicOrigin) ?? '';
  const id = env.PASSKEY_RP_ID?.trim().toLowerCase() || host;
  if (!isUnder(host, id) || !/^[a-z0-9.-]+$/.test(id) || id.startsWith('.')) {
    throw new ConfigError(`PASSKEY_RP_ID is "${id}": it must be the public host "${host}" or a parent domain of it.`);
  }
  const own = new URL(publicOrigin).origin;
  const allowed = commaList(env.ALLOWED_ORIGINS)
    .map((o) => o.replace(/\/+$/, ''))
    .filter((o) => {
      const h = hostOf(o);
      return h !== null && isUnder(h, id);
    });
  return { id, name: env.PASSKEY_RP_NAME?.trim() || siteName(env), origins: [...new Set([own, ...allowed])] };
}

/** What confirming a login needs (`CONFIRM_WITH`). */
export type ConfirmWith = 'tap' | 'passkey' | 'passkey-when-risky';

const CONFIRM_WITH: readonly ConfirmWith[] = ['tap', 'passkey', 'passkey-when-risky'];

/** `CONFIRM_WITH` (default `tap`); anything else is a logged 500. */
export function confirmWith(env: Env): ConfirmWith {
  const value = env.CONFIRM_WITH?.trim() || 'tap';
  if (!(CONFIRM_WITH as readonly string[]).includes(value)) {
    throw new ConfigError(`CONFIRM_WITH is "${value}": it must be ${CONFIRM_WITH.map((v) => `"${v}"`).join(', ')}.`);
  }
  return value as ConfirmWith;
}

/**
 * `CONFIRM_WITH`, and `PASSKEY_RP_ID` against the public origin when it is known (`PUBLIC_ORIGIN`,
 * or the origin a local server listens on), as a ceremony checks them.
 */
export const passkeyChecks: ConfigCheck = (env, { origin }) => [
  ...parsed(() => confirmWith(env)),
  // (An origin that is none is `PUBLIC_ORIGIN`'s problem, said by its own check.)
  ...(origin && hostOf(origin) && env.PASSKEY_RP_ID?.trim() ? parsed(() => relyingParty(env, origin)) : []),
];
