/**
 * @module
 * The shapes of `/api/config` and `/api/origin-check`, described in `GET /api/openapi.json`.
 */
import * as v from 'valibot';

export const ConfigAnswer = v.object({
  development: v.boolean(),
  match_code: v.boolean(),
  site_name: v.string(),
  identity: v.picklist(['accounts', 'jwt']),
  identity_login_url: v.nullable(v.string()),
  site_accent: v.pipe(
    v.nullable(v.object({ color: v.string(), text: v.picklist(['#000000', '#ffffff']) })),
    v.description(
      '`SITE_ACCENT` (`#rrggbb`, lower case) and the colour of text on it; null when unset or refused (the pages keep their own).',
    ),
  ),
  site_logo: v.pipe(
    v.nullable(v.string()),
    v.description('`SITE_LOGO`: a path of this Worker or an image `data:` URL; null when unset or refused.'),
  ),
  passkey_rp_id: v.pipe(
    v.nullable(v.string()),
    v.description(
      'The passkeys’ RP ID (`PASSKEY_RP_ID`, default the public host): pages offer passkeys only on a host under it. Null when it is unusable.',
    ),
  ),
});

export const OriginCheckAnswer = v.object({
  origin: v.pipe(v.nullable(v.string()), v.description("The request's `Origin` header, null without one.")),
  allowed: v.pipe(v.boolean(), v.description("Whether a page of that origin may call this Worker's API.")),
});
