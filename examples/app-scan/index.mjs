#!/usr/bin/env node
/**
 * A site's own mobile app approving a QR login, instead of the phone page `/confirm`: what the
 * app does after its camera read the QR, as a script. The app's user is already signed in to
 * the site, so the app holds the site's own JWT; the Worker runs with `IDENTITY=jwt` and
 * accepts that JWT as `Authorization: Bearer …` (see the README, "Adopt it on your site").
 *
 *   SITE_TOKEN=<the site's JWT> npm run app-scan -- <scan_url | qrcode_id> [--server URL] [--yes | --cancel] [--match NN]
 *
 * The argument is what the QR holds: the `scan_url` (`<worker>/confirm?id=…`, or the app's own
 * link when `SCAN_URL_TEMPLATE` is set, such as `https://app.example.com/qr/<id>`), or the bare
 * id. `--server` is the Worker's origin, needed when the QR holds the app's own link or a bare
 * id. Then: `POST /api/qrcodes/<id>/scan` (the computer now shows "scanned"), show who is
 * asking, ask the user (or take `--yes` / `--cancel`), and `POST …/confirm` or `…/cancel`.
 * With number matching on (`MATCH_CODE=on`) the user picks the number the computer shows
 * (or gives it with `--match`). Exit status 0 when the answer was delivered, 1 otherwise.
 */
import { createInterface } from 'node:readline';

const USAGE =
  'usage: SITE_TOKEN=<the site JWT> npm run app-scan -- <scan_url | qrcode_id> [--server URL] [--yes | --cancel] [--match NN]';

/** The QR's content as the Worker's origin and the QR id. */
function target(scanned, server) {
  let url = null;
  try {
    url = new URL(scanned);
  } catch {
    // a bare id
  }
  const id = url?.searchParams.get('id') ?? /[0-9a-f]{64}/.exec(url ? url.pathname : scanned)?.[0];
  if (!id) throw new Error(`no QR id in ${scanned}`);
  // The Worker's own phone pages carry its origin; an app's own link (SCAN_URL_TEMPLATE) does not.
  const own = url && ['/confirm', '/link'].includes(url.pathname);
  const origin = server ?? (own ? url.origin : null);
  if (!origin) throw new Error(`${scanned} does not say which server: give --server <the Worker's origin>`);
  return { origin: new URL(origin).origin, id };
}

function parseArgs(argv) {
  const opts = { scanned: null, server: null, answer: null, match: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--server') opts.server = argv[++i];
    else if (arg === '--match') opts.match = argv[++i];
    else if (arg === '--yes') opts.answer = 'confirm';
    else if (arg === '--cancel') opts.answer = 'cancel';
    else if (!arg.startsWith('--') && !opts.scanned) opts.scanned = arg;
    else throw new Error(USAGE);
  }
  if (!opts.scanned) throw new Error(USAGE);
  return opts;
}

/** "5 s", "3 min": how long ago or how long to go, roughly. */
const span = (ms) =>
  Math.abs(ms) < 90_000 ? `${Math.round(Math.abs(ms) / 1000)} s` : `${Math.round(Math.abs(ms) / 60_000)} min`;

/** What the user reads before deciding: the site, who is asking, from where, and for how long. */
function describe(scan, now = Date.now()) {
  const r = scan.requester ?? {};
  const place = [r.city, r.country].filter(Boolean).join(', ') || 'place unknown';
  return [
    scan.client_id
      ? `Sign in the program "${scan.client_id}" to ${scan.site_name ?? 'this site'}?`
      : `Sign in to ${scan.site_name ?? 'this site'} on a computer?`,
    `  asking: ${r.user_agent || 'an unknown browser'}`,
    `  from:   ${r.ip ?? '?'} (${place})`,
    ...(r.created_at ? [`  asked:  ${span(now - Date.parse(r.created_at))} ago`] : []),
    ...(scan.location_differs
      ? ['  WARNING: that computer is not where this phone is. Did you start this sign-in?']
      : []),
    `  the code expires in ${span(Date.parse(scan.expires_at) - now)}`,
  ].join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const token = process.env.SITE_TOKEN;
  if (!token) throw new Error(`SITE_TOKEN is not set: the app's signed-in user's JWT from the site\n${USAGE}`);
  const { origin, id } = target(opts.scanned, opts.server);
  const lines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  const ask = async (question) => {
    process.stdout.write(`${question} `);
    const { value = '' } = await lines.next();
    return value.trim();
  };
  const call = async (step, body) => {
    const res = await fetch(`${origin}/api/qrcodes/${id}/${step}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'User-Agent': `app-scan example (${process.platform})`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await res.json().catch(() => ({ error: `http_${res.status}`, message: res.statusText }));
    if (!res.ok) throw new Error(`${answer.message ?? 'refused'} (${res.status} ${answer.error})`);
    return answer;
  };

  const scan = await call('scan');
  console.log(describe(scan));
  const answer = opts.answer ?? ((await ask('Confirm? [y/N]')).toLowerCase().startsWith('y') ? 'confirm' : 'cancel');
  if (answer === 'cancel') {
    await call('cancel');
    console.log('Cancelled: the computer is not signed in.');
    return;
  }
  let body;
  if (scan.match_choices) {
    const match = opts.match ?? (await ask(`Which number does the computer show? (${scan.match_choices.join(' / ')})`));
    body = { match_code: match };
  }
  await call('confirm', body);
  console.log('Confirmed: the computer is signed in.');
}

try {
  await main();
  process.exit(0);
} catch (err) {
  console.error(`Not done: ${err.message}`);
  process.exit(1);
}
