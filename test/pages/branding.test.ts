/**
 * The site's own look: `SITE_ACCENT` and `SITE_LOGO` reach the pages through `/api/config` only
 * when the pages can use them; anything else is refused with a logged reason and the pages keep
 * their own look.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import { contrast } from '../../src/pages/branding';
import { ORIGIN } from '../helpers';

interface Config {
  site_accent: { color: string; text: string } | null;
  site_logo: string | null;
}

async function configWith(extra: Record<string, string>): Promise<Config> {
  const res = await app.fetch(new Request(`${ORIGIN}/api/config`), { ...env, ...extra });
  expect(res.status).toBe(200);
  return res.json();
}

/** Runs `fn` and answers what it logged with console.error. */
async function logged(fn: () => Promise<unknown>): Promise<string> {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  await fn();
  return error.mock.calls.map((args) => args.join(' ')).join('\n');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SITE_ACCENT', () => {
  it('is unset by default: the pages keep their own accent', async () => {
    expect(await configWith({})).toMatchObject({ site_accent: null, site_logo: null });
  });

  it('reaches the pages with the text colour that reads on it', async () => {
    // GitHub's purple: 3:1 and more against both looks' backgrounds, white text on it.
    expect((await configWith({ SITE_ACCENT: '#8250DF' })).site_accent).toEqual({ color: '#8250df', text: '#ffffff' });
    // A light-enough teal that still stands out on the light look takes black text.
    const teal = (await configWith({ SITE_ACCENT: '#1a8f7f' })).site_accent;
    expect(teal?.color).toBe('#1a8f7f');
    expect(contrast(teal!.color, teal!.text)).toBeGreaterThanOrEqual(4.5);
  });

  it('is refused, with the reason logged, when it fades into the light or the dark look', async () => {
    let config: Config | null = null;
    // Gold on white: far below 3:1.
    const light = await logged(async () => {
      config = await configWith({ SITE_ACCENT: '#ffd700' });
    });
    expect(config!.site_accent).toBeNull();
    expect(light).toMatch(
      /SITE_ACCENT "#ffd700" is refused: its contrast with the light look's background #[0-9a-f]{6} is 1\.\d\d:1, less than 3:1/,
    );
    // Navy on the dark look's background.
    const dark = await logged(async () => {
      config = await configWith({ SITE_ACCENT: '#1b1f5e' });
    });
    expect(config!.site_accent).toBeNull();
    expect(dark).toMatch(/SITE_ACCENT "#1b1f5e" is refused: its contrast with the dark look's background/);
  });

  it('is refused when it is not a #rrggbb colour (nothing else reaches a style sheet)', async () => {
    for (const value of ['purple', '#82f', '#8250df; background: url(x)', 'rgb(1,2,3)']) {
      let config: Config | null = null;
      const said = await logged(async () => {
        config = await configWith({ SITE_ACCENT: value });
      });
      expect(config!.site_accent).toBeNull();
      expect(said).toContain('it must be a colour written #rrggbb');
    }
  });
});

describe('SITE_LOGO', () => {
  it('passes a path under public/ and an image data: URL', async () => {
    expect((await configWith({ SITE_LOGO: '/logo.svg' })).site_logo).toBe('/logo.svg');
    expect((await configWith({ SITE_LOGO: '/brand/shop-logo.png' })).site_logo).toBe('/brand/shop-logo.png');
    const data = 'data:image/png;base64,iVBORw0KGgo=';
    expect((await configWith({ SITE_LOGO: data })).site_logo).toBe(data);
  });

  it("refuses, with the reason logged, what the pages' CSP would block or what is no image", async () => {
    for (const value of [
      'https://cdn.example/logo.png',
      '//cdn.example/logo.png',
      '/../secret.png',
      '/api/config.png',
      '/confirm',
      'data:text/html,<script>alert(1)</script>',
      'javascript:alert(1)',
    ]) {
      let config: Config | null = null;
      const said = await logged(async () => {
        config = await configWith({ SITE_LOGO: value });
      });
      expect(config!.site_logo, value).toBeNull();
      expect(said, value).toMatch(/SITE_LOGO ".*" is refused: /);
    }
  });

  it('is served to any origin, so that the element can draw it on a page whose CSP allows no image', async () => {
    const assets = { fetch: async () => new Response('<svg/>', { headers: { 'Content-Type': 'image/svg+xml' } }) };
    const get = (path: string) =>
      app.fetch(new Request(`${ORIGIN}${path}`), {
        ...env,
        SITE_LOGO: '/logo.svg',
        ASSETS: assets as unknown as Fetcher,
      });
    expect((await get('/logo.svg')).headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect((await get('/other.svg')).headers.get('Access-Control-Allow-Origin')).toBeNull();
  });
});
