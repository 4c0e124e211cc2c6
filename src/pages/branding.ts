/**
 * @module
 * The site's own look, `SITE_ACCENT` and `SITE_LOGO`, checked here once so that the pages and
 * `<qr-login>` can use what `/api/config` says as it is. An accent that would not stand out
 * 3:1 from the pages' background in the light or the dark look is refused, and so is a logo the
 * pages' Content-Security-Policy would block: each refusal is logged with its reason, and the
 * pages keep their own look.
 */
import type { AppEnv } from '../http/app-env';
import { type ConfigCheck, type ConfigProblem, logOnce } from '../http/config-check';

/**
 * The backgrounds an accent is drawn on: the page and the card in each look (public/css/app.css
 * `--bg`, `--card`; the element's own background is the card's).
 */
const BACKGROUNDS = {
  light: ['#f4f6f8', '#ffffff'],
  dark: ['#0d1117', '#161b22'],
} as const;
/** WCAG 2.2 AA for controls, borders and focus rings (1.4.11) and for text (1.4.3). */
const NON_TEXT_CONTRAST = 3;
const TEXT_CONTRAST = 4.5;

const HEX_COLOUR = /^#[0-9a-f]{6}$/i;

/** WCAG's relative luminance of a `#rrggbb` colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG's contrast ratio of two `#rrggbb` colours, from 1 to 21. */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The accent and the colour of text on it (black or white, whichever reads better; one always reaches 4.5:1). */
export interface Accent {
  color: string;
  text: '#000000' | '#ffffff';
}

/** The refusal of `name`'s `value`, as the log and the configuration check say it. */
function refusal(name: string, value: string, reason: string): ConfigProblem {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return { name, message: `${name} ${JSON.stringify(shown)} is refused: ${reason}. The pages' own is used.` };
}

/** Logs the refusal once per isolate (not on every `/api/config`, nor again after the start-up check). */
function refuse(problem: ConfigProblem): null {
  logOnce(`configuration: ${problem.message}`);
  return null;
}

/** Why `SITE_ACCENT` is refused, or null when it is usable in both looks (or not set). */
function accentRefusal(env: AppEnv['Bindings']): ConfigProblem | null {
  const value = env.SITE_ACCENT?.trim();
  if (!value) return null;
  if (!HEX_COLOUR.test(value)) return refusal('SITE_ACCENT', value, 'it must be a colour written #rrggbb');
  for (const [look, backgrounds] of Object.entries(BACKGROUNDS)) {
    for (const background of backgrounds) {
      const ratio = contrast(value.toLowerCase(), background);
      if (ratio < NON_TEXT_CONTRAST) {
        return refusal(
          'SITE_ACCENT',
          value,
          `its contrast with the ${look} look's background ${background} is ${ratio.toFixed(2)}:1, less than ${NON_TEXT_CONTRAST}:1; choose a darker or lighter one`,
        );
      }
    }
  }
  return null;
}

/** `SITE_ACCENT` when it is usable in both looks, else null (the pages' own accent), the reason logged. */
export function siteAccent(env: AppEnv['Bindings']): Accent | null {
  const value = env.SITE_ACCENT?.trim();
  if (!value) return null;
  const refused = accentRefusal(env);
  if (refused) return refuse(refused);
  const color = value.toLowerCase();
  const onBlack = contrast(color, '#000000');
  const onWhite = contrast(color, '#ffffff');
  // Both reach 4.5:1 for mid tones; the better one is kept.
  const text = onWhite >= TEXT_CONTRAST && onWhite >= onBlack ? '#ffffff' : '#000000';
  return { color, text };
}

/** A data: URL of an image type every browser draws. */
const IMAGE_DATA_URL = /^data:image\/(png|jpeg|gif|webp|svg\+xml)(;[a-z0-9=.+-]+)*,/i;
/** A path of this Worker's own (under `public/`) to an image: no `..`, no query, not the API. */
const IMAGE_PATH = /^(?!.*\/\.\.?\/)\/(?!\/|api\/)[A-Za-z0-9._~!$&'()+,;=:@%/-]+\.(png|jpe?g|gif|webp|svg|ico)$/i;

/**
 * `SITE_LOGO` when the pages can show it (a path under `public/`, or an image `data:` URL), else
 * null, the reason logged. A URL of another origin is refused: the pages' CSP would block it.
 */
export function siteLogo(env: AppEnv['Bindings']): string | null {
  const value = env.SITE_LOGO?.trim();
  if (!value) return null;
  const refused = logoRefusal(value);
  return refused ? refuse(refused) : value;
}

/** Why the `SITE_LOGO` `value` is refused, or null. */
function logoRefusal(value: string): ConfigProblem | null {
  if (value.startsWith('data:')) {
    return IMAGE_DATA_URL.test(value)
      ? null
      : refusal('SITE_LOGO', value, 'a data: URL must be a png, jpeg, gif, webp or svg+xml image');
  }
  if (IMAGE_PATH.test(value)) return null;
  return refusal(
    'SITE_LOGO',
    value,
    'it must be the path of an image under public/ (such as /logo.svg) or a data: URL; the pages load images from their own origin only',
  );
}

/** `SITE_ACCENT` and `SITE_LOGO` as `/api/config` would refuse them (said once: the same line). */
export const brandingChecks: ConfigCheck = (env) => {
  const logo = env.SITE_LOGO?.trim();
  return [accentRefusal(env), logo ? logoRefusal(logo) : null].filter((p) => p !== null);
};
