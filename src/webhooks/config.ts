/**
 * @module
 * The two webhook settings, read and checked in one place: `WEBHOOK_URL` (where events are
 * POSTed) and `WEBHOOK_SECRET` (the Standard Webhooks key, `whsec_` + base64).
 */
import type { Env } from '../env';
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
