/**
 * @module
 * The two webhook settings, read and checked in one place: `WEBHOOK_URL` (where events are
 * POSTed) and `WEBHOOK_SECRET` (the Standard Webhooks key, `whsec_` + base64).
 */
import type { Env } from '../env';
import type { ConfigCheck } from '../http/config-check';
import { secretKey } from './signature';

/** Webhooks off (nothing set), on (ready to sign and send), or misconfigured (with the reason). */
export type WebhookConfig =
  | { state: 'off'; reason: string | null }
  | { state: 'on'; url: string; key: Uint8Array }
  | { state: 'broken'; reason: string };

export function webhookConfig(env: Env): WebhookConfig {
  const url = env.WEBHOOK_URL?.trim() ?? '';
  const secret = env.WEBHOOK_SECRET?.trim() ?? '';
  if (!url && !secret) return { state: 'off', reason: null };
  // Half a configuration cannot send a signed event: say so rather than stay silent.
  if (!secret) return { state: 'off', reason: 'WEBHOOK_URL is set but WEBHOOK_SECRET is not' };
  if (!url) return { state: 'off', reason: 'WEBHOOK_SECRET is set but WEBHOOK_URL is not' };

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { state: 'broken', reason: 'WEBHOOK_URL is not a URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { state: 'broken', reason: 'WEBHOOK_URL must be an http(s) URL' };
  }
  const key = secretKey(secret);
  if (typeof key === 'string') return { state: 'broken', reason: key };
  return { state: 'on', url: parsed.href, key };
}

/**
 * Webhooks half set up, or set up wrong, as the configuration check says it (the reason starts
 * with the variable's name): `webhookConfig`'s own reasons.
 */
export const webhookChecks: ConfigCheck = (env) => {
  const config = webhookConfig(env);
  if (config.state === 'on' || config.reason === null) return [];
  // Half a configuration names the missing half last ("WEBHOOK_URL is set but WEBHOOK_SECRET is not").
  const names = config.reason.match(/WEBHOOK_[A-Z]+/g) ?? ['WEBHOOK_URL'];
  const name = config.state === 'off' ? names[names.length - 1]! : names[0]!;
  const right =
    config.state === 'off'
      ? ': set both to send webhooks, or neither'
      : name === 'WEBHOOK_SECRET'
        ? ': make one with echo "whsec_$(openssl rand -base64 32)" and give the receiver the same'
        : ': set it to the address that receives the events, such as https://shop.example/webhooks';
  return [{ name, message: `${config.reason}${right}. No webhook is sent until then.` }];
};
