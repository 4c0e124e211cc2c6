/**
 * An HTTP answer read whole as JSON, for the fault specs that send raw `node:http` requests (a
 * declared `Content-Length`, a body written in pieces): its status and body, or an error that
 * quotes what came back when it is not JSON.
 */
import type { IncomingMessage } from 'node:http';

/** `T` is what the caller expects the body to be; it is parsed, not checked. */
export function jsonAnswer<T = unknown>(res: IncomingMessage): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (part) => {
      text += part;
    });
    res.on('error', reject);
    res.on('end', () => {
      try {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
      } catch {
        reject(new Error(`${res.statusCode}, not JSON: ${text}`));
      }
    });
  });
}
