/**
 * @module
 * Starting a QR login: the one place that makes a login's object, whoever asks for it
 * (the PC's `POST /api/qrcodes`, the device flow's `POST /oauth/device_authorization`, the
 * authorize page's `POST /api/authorize` for an OpenID Connect client), so that all get the same
 * lifetime, `scan_url` and requester record.
 */
import type { Context } from 'hono';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { type ConfigCheck, problem, quoted, switchProblem } from '../http/config-check';
import { randomToken, sha256Hex } from '../http/crypto';
import { ConfigError } from '../http/errors';
import { clientIp, requester } from '../http/request-info';
import { publicOrigin } from '../http/site';
import { countQrcode } from '../limits/limits';
import { qrDataUrl } from '../qr/qr-image';
import { seconds, secondsProblem } from '../tokens/lifetimes';
import type { OidcLogin } from '../user/oidc-types';
import type { LoginStatus, PcView } from './state';
import { formatUserCode, newUserCode, userCodeObject } from './user-code';

const DEFAULT_QR_TTL_SECONDS = 120;

/** Lifetime of a new login, in seconds. */
export const qrTtlSeconds = (env: Env): number => seconds(env.QR_TTL_SECONDS, DEFAULT_QR_TTL_SECONDS);

/** What the QR opens: `SCAN_URL_TEMPLATE` with `{id}`, else `<origin>/confirm?id=<id>`. */
function scanUrl(env: Env, origin: string, id: string): string {
  const template = env.SCAN_URL_TEMPLATE;
  if (!template) return `${origin}/confirm?id=${id}`;
  if (!template.includes('{id}')) throw new ConfigError('SCAN_URL_TEMPLATE must contain {id}.');
  return template.replaceAll('{id}', id);
}

/** `QR_TTL_SECONDS`, `SCAN_URL_TEMPLATE` (a URL with `{id}`) and `MATCH_CODE`, as a new login reads them. */
export const loginChecks: ConfigCheck = (env) => {
  const found = [
    ...secondsProblem('QR_TTL_SECONDS', env.QR_TTL_SECONDS, DEFAULT_QR_TTL_SECONDS),
    ...switchProblem('MATCH_CODE', env.MATCH_CODE, 'off'),
  ];
  const template = env.SCAN_URL_TEMPLATE;
  if (template) {
    let url = true;
    try {
      new URL(template.replaceAll('{id}', 'id'));
    } catch {
      url = false;
    }
    if (!template.includes('{id}') || !url) {
      found.push(
        problem(
          'SCAN_URL_TEMPLATE',
          `is ${quoted(template)}: it must be a whole URL with {id} where the QR id goes, such as "https://app.example.com/qr/{id}".`,
        ),
      );
    }
  }
  return found;
};

/** Points a fresh code to type at the login; a clash (one in 2.6 × 10^10) just draws again. */
export async function claimUserCode(env: Env, qrcodeId: string, expiresAt: number): Promise<string> {
  for (;;) {
    const code = newUserCode();
    if (await userCodeObject(env, code).claim(qrcodeId, expiresAt)) return code;
  }
}

/** What the caller asks of a new login. */
export interface StartLoginOptions {
  /** SHA-256 (hex) of the poll secret that only the asking client holds. */
  pollHash: string;
  /** Make the code to type now (the device flow needs it at once). */
  userCode: boolean;
  /** The OAuth client of a device-flow login (its registered name, if any), and the scope it asked for. */
  device?: { clientId: string; clientName?: string | null; scope: string | null };
  /** The OpenID Connect client and authorization request a login is made for (`/api/authorize`). */
  oidc?: OidcLogin;
  /** The DPoP key the creating request proved: the login (its poll, its tokens) is bound to it. */
  jkt?: string | null;
}

/** A login just started. */
export interface StartedLogin {
  qrcodeId: string;
  /** What the QR opens: `<origin>/confirm?id=<qrcode_id>`, or `SCAN_URL_TEMPLATE`'s link. */
  scanUrl: string;
  /** Where a code is typed: `<origin>/link`. */
  verificationUrl: string;
  /** The code to type, shown with its dash, when one was asked for. */
  userCode: string | null;
  ttlSeconds: number;
  view: PcView;
}

/** Creates a login's object for the request `c`: a new unique id, its record and its expiry alarm. */
export async function startLogin(c: Context<AppEnv>, options: StartLoginOptions): Promise<StartedLogin> {
  const origin = publicOrigin(c);
  const ttlSeconds = qrTtlSeconds(c.env);
  const id = c.env.LOGIN_SESSION.newUniqueId();
  const qrcodeId = id.toString();
  // Before anything is created: a misconfigured template must not leave a login behind.
  const url = scanUrl(c.env, origin, qrcodeId);
  const userCode = options.userCode ? await claimUserCode(c.env, qrcodeId, Date.now() + ttlSeconds * 1000) : null;
  const view = await c.env.LOGIN_SESSION.get(id).create({
    pollHash: options.pollHash,
    ttlMs: ttlSeconds * 1000,
    requester: requester(c),
    // A device has no screen of ours to show the number on: matching would be blind there.
    matchCode: c.env.MATCH_CODE === 'on' && !options.device,
    userCode,
    device: options.device,
    oidc: options.oidc,
    jkt: options.jkt ?? null,
  });
  return {
    qrcodeId,
    scanUrl: url,
    verificationUrl: `${origin}/link`,
    userCode: userCode && formatUserCode(userCode),
    ttlSeconds,
    view,
  };
}

/** A new QR login as `POST /api/qrcodes` answers it: the poll token is given once, here. */
export interface CreatedQr {
  qrcode_id: string;
  poll_token: string;
  scan_url: string;
  img: string;
  status: LoginStatus;
  version: number;
  expires_at: string;
}

/**
 * A new QR login for the PC that sends `c` (counted toward its IP's limit first): for the PC
 * page, or for the authorize page of an OpenID Connect client (`oidc`); bound to the DPoP key
 * `jkt` when the PC proved one.
 */
export async function startQrLogin(
  c: Context<AppEnv>,
  oidc?: OidcLogin,
  jkt: string | null = null,
): Promise<CreatedQr> {
  await countQrcode(c.env, clientIp(c));
  const token = randomToken(32);
  const started = await startLogin(c, { pollHash: await sha256Hex(token), userCode: false, oidc, jkt });
  return {
    qrcode_id: started.qrcodeId,
    poll_token: token,
    scan_url: started.scanUrl,
    img: qrDataUrl(started.scanUrl),
    status: started.view.status,
    version: started.view.version,
    expires_at: started.view.expires_at,
  };
}
