/**
 * The static files' headers: the widget's modules load on other sites' pages, the pages stay
 * unframeable with their CSP. (Static assets are stood in for: the real ones are served in the
 * browser suite.)
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';

const assets = {
  fetch: async () => new Response('export {};', { headers: { 'Content-Type': 'text/javascript' } }),
} as unknown as Fetcher;
const get = (path: string) => app.fetch(new Request(`https://login.example${path}`), { ...env, ASSETS: assets });

describe('static files', () => {
  it('serve /widget.js, everything under /widget/ and the toolkit it imports to any origin', async () => {
    for (const path of ['/widget.js', '/widget/define.js', '/widget/qr-login-element.js', '/kit/dom.js']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    }
  });

  it('do not open the pages or other scripts to other origins', async () => {
    for (const path of ['/', '/confirm?id=x', '/link', '/pages/pc.js', '/widgets.js', '/widget.json', '/kits/x.js']) {
      const res = await get(path);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    }
  });
});
