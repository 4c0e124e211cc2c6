/**
 * @module
 * Standard Webhooks signatures on Web Crypto: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`
 * keyed with the bytes of the `whsec_` secret. The `standardwebhooks` package does the same in
 * pure JavaScript, at about 6 KiB (gzip) of bundle for one HMAC; the runtime has HMAC built in,
 * and the tests check every signature with that package's `Webhook.verify`.
 */

const PREFIX = 'whsec_';
const encoder = new TextEncoder();

/** The key bytes of a `whsec_…` secret, or a reason why it is not one. */
export function secretKey(secret: string): Uint8Array | string {
  if (!secret.startsWith(PREFIX)) return 'WEBHOOK_SECRET must start with whsec_ (a Standard Webhooks key)';
  let binary: string;
  try {
    binary = atob(secret.slice(PREFIX.length));
  } catch {
    return 'WEBHOOK_SECRET is not whsec_ followed by base64';
  }
  if (binary.length === 0) return 'WEBHOOK_SECRET has nothing after whsec_';
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** The `webhook-signature` header for one attempt. `timestamp` is in Unix seconds. */
export async function signature(key: Uint8Array, id: string, timestamp: number, payload: string): Promise<string> {
  const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, encoder.encode(`${id}.${timestamp}.${payload}`)));
  let binary = '';
  for (const byte of mac) binary += String.fromCharCode(byte);
  return `v1,${btoa(binary)}`;
}
