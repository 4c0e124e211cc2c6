#!/usr/bin/env node
/**
 * The load generator of `npm run bench`, run as its own process so that it never shares an
 * event loop with the server it measures. `bench/run.mjs` sends it one task at a time over
 * IPC (`{ task, ...args }`) and gets back one result object. Clients are plain HTTP over
 * loopback through one undici Agent with no cap on connections.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { authorizeParams, codeOf, pkce, tokenRequest } from './oidc.mjs';

const agent = new Agent({
  connections: null,
  pipelining: 1,
  keepAliveTimeout: 120_000,
  keepAliveMaxTimeout: 120_000,
  headersTimeout: 120_000,
  bodyTimeout: 120_000,
  connect: { timeout: 30_000 },
});

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const PC_UA = 'Mozilla/5.0 (X11; Linux x86_64) qrcode-login-bench';

/**
 * Agents whose connections come from one loopback address each (127.0.0.2 …): one machine
 * holding many thousands of waiting PCs needs more client ports than one address offers.
 */
const agentsFrom = new Map();
function agentFrom(localAddress) {
  if (!localAddress) return agent;
  if (!agentsFrom.has(localAddress)) {
    agentsFrom.set(
      localAddress,
      new Agent({ connections: null, pipelining: 1, localAddress, headersTimeout: 120_000, bodyTimeout: 120_000 }),
    );
  }
  return agentsFrom.get(localAddress);
}

/** One request; the body parsed as JSON when there is one. */
async function call(base, method, path, headers = {}, body, signal, dispatcher = agent) {
  // A string is sent as it is (a form), anything else as JSON.
  const raw = body === undefined || typeof body === 'string';
  const res = await request(base + path, {
    method,
    signal,
    dispatcher,
    headers: raw ? headers : { 'content-type': 'application/json', ...headers },
    body: raw ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.statusCode, json };
}

class Failure extends Error {}
function expectStatus(res, status, what) {
  if (res.status !== status) throw new Failure(`${what}: ${res.status} ${JSON.stringify(res.json)?.slice(0, 200)}`);
  return res.json;
}

const createQr = async (base) =>
  expectStatus(await call(base, 'POST', '/api/qrcodes', { 'user-agent': PC_UA }), 201, 'create');
const poll = (base, qr, query = '', signal, dispatcher = agent) =>
  call(
    base,
    'GET',
    `/api/qrcodes/${qr.qrcode_id}/status${query}`,
    { 'x-poll-token': qr.poll_token },
    undefined,
    signal,
    dispatcher,
  );
const act = (base, qr, step, phone) =>
  call(base, 'POST', `/api/qrcodes/${qr.qrcode_id}/${step}`, { authorization: `Bearer ${phone}` });

/** Runs `worker(i)` for i = 0 … n-1 with at most `concurrency` at a time. */
async function pool(n, concurrency, worker) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await worker(next++);
    }),
  );
}

/**
 * 1. Notification latency: the PC waits on a long-poll (or polls `status` once a second, the
 * way the seed's tutorial page does); the phone confirms; the time from the confirm's answer
 * to the PC holding its token. Each login is then asked once more: a second token is a
 * duplicate, and the answer must be 410.
 */
async function latency({ base, phone, logins, concurrency, mode, parkMs = 10 }) {
  const fromAnswer = [];
  const fromSent = [];
  const errors = [];
  let duplicates = 0;
  let requests = 0;
  await pool(logins, concurrency, async () => {
    try {
      const qr = await createQr(base);
      if (mode === 'longpoll') {
        expectStatus(await act(base, qr, 'scan', phone), 200, 'scan');
        let tokenAt = 0;
        const waiting = poll(base, qr, '?after=1&wait=30').then((res) => {
          tokenAt = now();
          return res;
        });
        waiting.catch(() => {}); // awaited below; a failure before then must not go unhandled
        requests += 4;
        await sleep(parkMs); // let the poll reach the session object and wait there
        const sent = now();
        expectStatus(await act(base, qr, 'confirm', phone), 200, 'confirm');
        const answered = now();
        const got = expectStatus(await waiting, 200, 'long-poll');
        if (!got.token) throw new Failure(`long-poll answered ${got.status} without a token`);
        fromAnswer.push(tokenAt - answered);
        fromSent.push(tokenAt - sent);
      } else {
        // The tutorial page: a status request every second from the moment the QR is shown.
        let stop = false;
        let tokenAt = 0;
        let tokens = 0;
        const shown = now();
        const polling = (async () => {
          // setInterval(check, 1000): ticks at a fixed rate, whatever each request takes.
          for (let tick = 1; ; tick++) {
            await sleep(Math.max(0, shown + tick * 1000 - now()));
            if (stop) return;
            requests++;
            const res = await poll(base, qr);
            if (res.status === 200 && res.json.token) {
              tokens++;
              tokenAt = now();
              return;
            }
            if (res.status !== 200) throw new Failure(`poll: ${res.status}`);
          }
        })();
        // The phone scans at once and confirms at a random moment within the next second.
        expectStatus(await act(base, qr, 'scan', phone), 200, 'scan');
        await sleep(Math.random() * 1000);
        const sent = now();
        expectStatus(await act(base, qr, 'confirm', phone), 200, 'confirm');
        const answered = now();
        requests += 3;
        await Promise.race([polling, sleep(10_000).then(() => (stop = true))]);
        if (!tokens) throw new Failure('the polling PC never got its token');
        fromAnswer.push(tokenAt - answered);
        fromSent.push(tokenAt - sent);
      }
      const again = await poll(base, qr);
      requests++;
      if (again.json?.token) duplicates++;
      else if (again.status !== 410) throw new Failure(`after the token, status answered ${again.status}`);
    } catch (err) {
      errors.push(String(err.message ?? err));
    }
  });
  return {
    logins,
    concurrency,
    mode,
    fromAnswer,
    fromSent,
    errors: errors.length,
    errorSamples: errors.slice(0, 5),
    duplicates,
    requests,
  };
}

/** 2. Requests that waiting PCs make while nobody scans, over `seconds`. */
async function waiting({ base, pcs, seconds, mode }) {
  const end = now() + seconds * 1000;
  // At the end of the window, a long-poll still waiting is abandoned (it was counted when sent).
  const stop = AbortSignal.timeout(seconds * 1000 + 50);
  const perPc = await Promise.all(
    Array.from({ length: pcs }, async () => {
      const qr = await createQr(base);
      const times = [];
      const errors = [];
      while (now() < end) {
        times.push(now());
        try {
          const res = mode === 'longpoll' ? await poll(base, qr, '?after=0', stop) : await poll(base, qr);
          if (res.status !== 200) errors.push(res.status);
        } catch (err) {
          if (!stop.aborted) errors.push(String(err.message ?? err));
          break;
        }
        if (mode !== 'longpoll') await sleep(Math.max(0, 1000 - (now() - times.at(-1))));
      }
      return { times, errors };
    }),
  );
  // Steady state: a minute over the mean gap between one PC's successive requests.
  const gaps = perPc.flatMap(({ times }) => times.slice(1).map((t, i) => t - times[i]));
  const meanGap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : null;
  return {
    pcs,
    seconds,
    mode,
    requests: perPc.reduce((n, p) => n + p.times.length, 0),
    perMinute: meanGap ? 60_000 / meanGap : null,
    meanGapMs: meanGap,
    errors: perPc.reduce((n, p) => n + p.errors.length, 0),
  };
}

/**
 * One whole QR login on the app (or, with `codeflow`, a site's sign-in by scan): the PC's
 * long-polls beside the phone's scan and confirm, until the token (or the code, exchanged).
 * False when the login ended without one.
 */
async function appLogin(base, user, codeflow) {
  const verifier = codeflow ? pkce() : null;
  const qr = verifier
    ? expectStatus(
        await call(base, 'POST', '/api/authorize', { 'user-agent': PC_UA }, authorizeParams(verifier.challenge)),
        200,
        'authorize',
      ).login
    : await createQr(base);
  const [seen] = await Promise.all([poll(base, qr, '?after=0&wait=30'), act(base, qr, 'scan', user)]);
  expectStatus(seen, 200, 'first poll');
  const [got, confirmed] = await Promise.all([
    poll(base, qr, `?after=${seen.json.version}&wait=30`),
    act(base, qr, 'confirm', user),
  ]);
  expectStatus(confirmed, 200, 'confirm');
  let body = expectStatus(got, 200, 'second poll');
  // The first poll may have seen `noscan` if it was answered before the scan landed.
  while (!body.token && !body.redirect_to && body.status !== 'expired') {
    body = expectStatus(await poll(base, qr, `?after=${body.version}&wait=30`), 200, 'poll');
  }
  if (verifier && body.redirect_to) {
    // The site's backend exchanges the code the browser brought back.
    const { headers, body: form } = tokenRequest(codeOf(body.redirect_to), verifier.verifier);
    expectStatus(await call(base, 'POST', '/oauth/token', headers, form), 200, 'token');
    return true;
  }
  return Boolean(body.token);
}

/**
 * One whole login on the seed (bench/seed/server.mjs): generate, scan, confirm, then `check`
 * collects the token. Its PC can only poll; here it asks once, right after the confirmation,
 * the fewest requests the seed's login can take (4). False when no token came.
 */
async function seedLogin(base, user) {
  const qr = expectStatus(await call(base, 'GET', '/qrcode/generate'), 200, 'generate');
  const q = `?id=${qr.qrcode_id}`;
  expectStatus(await call(base, 'GET', `/qrcode/scan${q}`), 200, 'scan');
  expectStatus(await call(base, 'GET', `/qrcode/confirm${q}`, { authorization: `Bearer ${user}` }), 200, 'confirm');
  return Boolean(expectStatus(await call(base, 'GET', `/qrcode/check${q}`), 200, 'check')?.token);
}

/**
 * 3. Whole logins as a PC and a phone do them: create; the PC long-polls while the phone
 * scans; the PC long-polls again while the phone confirms; the PC holds its token. With
 * `codeflow`, a site's sign-in by scan (OpenID Connect) instead: the authorize page's
 * `POST /api/authorize` makes the QR, the same polls, scan and confirm, the poll hands out the
 * code, and the site exchanges it at `/oauth/token` (6 requests). With `phones`, client i's phone
 * is `phones[i mod n]`: many users, each with its own object, as on a real site (issue 30); a
 * user has at most 50 live sessions, and each code-flow sign-in is one of its user's until the
 * exchange, so the code flow needs them. Without, every client's phone is `phone`. With `seed`,
 * each login is the seed's (`seedLogin`).
 */
async function throughput({
  base,
  phone,
  phones,
  concurrency,
  seconds,
  warmupSeconds = 1,
  codeflow = false,
  seed = false,
}) {
  const start = now();
  // The window opens after the warm-up and once the first wave (one login per client) has
  // ended: clients start together, so until then nothing ends, and a short window would
  // miss the wave's burst.
  let measureFrom = Number.POSITIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  let done = 0;
  let ended = 0;
  let errors = 0;
  let lost = 0;
  const samples = [];
  const durations = [];
  const settle = () => {
    const t = now();
    if (
      end === Number.POSITIVE_INFINITY &&
      ((ended >= concurrency && t >= start + warmupSeconds * 1000) || t > start + 60_000)
    ) {
      measureFrom = t;
      end = t + seconds * 1000;
    }
  };
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      // With `phones`, each client is its own phone user (as many users as the list holds).
      const user = phones?.length ? phones[client % phones.length] : phone;
      while (now() < end) {
        const t0 = now();
        try {
          const got = seed ? await seedLogin(base, user) : await appLogin(base, user, codeflow);
          if (!got) lost++;
          // Throughput counts the logins that end inside the window, whenever they began.
          const t1 = now();
          if (t1 > measureFrom && t1 <= end) {
            done++;
            durations.push(t1 - t0);
          }
        } catch (err) {
          errors++;
          if (samples.length < 5) samples.push(String(err.message ?? err));
        }
        ended++;
        settle();
      }
    }),
  );
  return {
    concurrency,
    seconds,
    logins: done,
    perSecond: done / seconds,
    // Every login that ended in the level, warm-up and tail included (the runtime's CPU is read around all of them).
    loginsInLevel: ended - errors,
    errors,
    lost,
    errorSamples: samples,
    durations,
  };
}

/**
 * 4. Waiting PCs held at once. `make` creates `count` codes of a `round`; `wait` has a PC
 * long-poll every code of a round (`wait=30`, again after each answer, until the session ends),
 * all at once; `count` says how many wait; `finish` scans every code (8 at a time), timing when each PC hears of it,
 * confirms one in `every` (timing when its PC holds its token), and lets the rest expire or
 * cancels them; then reports how each PC ended.
 */
const held = [];
let heldOpen = 0;
/** Polls of the held PCs answered 429 or 5xx (and tried again), by status. */
const retriedByStatus = {};

async function make({ base, count, round = 1, concurrency = 48, localAddresses = [] }) {
  const t0 = now();
  let errors = 0;
  await pool(count, concurrency, async (i) => {
    try {
      const qr = await createQr(base);
      held.push({
        base,
        round,
        qr,
        // The PC's polls come from this address (the code was made from the default one).
        agent: agentFrom(localAddresses[i % localAddresses.length]),
        outcome: null,
        tokens: 0,
        polls: 0,
        pollSince: null,
        listeners: [],
        done: null,
        confirmed: false,
        retried: 0,
      });
    } catch {
      errors++;
    }
  });
  return { created: count - errors, errors, seconds: (now() - t0) / 1000, total: held.length };
}

/** Resolves with the time of `entry`'s next answer that `wanted` accepts (registered before the step that causes it). */
const nextAnswer = (entry, wanted) => new Promise((resolve) => entry.listeners.push({ wanted, resolve }));

/** How often a PC tries again after a 429 or a 5xx, as the page's back-off does (1, 2, 4 … s, at most 5 s). */
const RETRIES = 5;

/** The PC: long-polls its code until the session ends, the way the page does (a 429 or 5xx is tried again). */
async function waitOn(base, entry) {
  let after = 0;
  let failures = 0;
  for (;;) {
    entry.polls++;
    entry.pollSince = now();
    const res = await poll(base, entry.qr, `?after=${after}&wait=30`, undefined, entry.agent);
    const at = now();
    if (res.status === 410) {
      entry.outcome = entry.tokens ? entry.outcome : 'gone';
      break;
    }
    if ((res.status === 429 || res.status >= 500) && failures < RETRIES) {
      entry.retried++;
      retriedByStatus[res.status] = (retriedByStatus[res.status] ?? 0) + 1;
      await sleep(Math.min(5000, 1000 * 2 ** failures++));
      continue;
    }
    if (res.status !== 200) {
      entry.outcome = `http ${res.status}`;
      break;
    }
    failures = 0;
    for (const listener of entry.listeners.filter(({ wanted }) => wanted(res.json))) {
      entry.listeners.splice(entry.listeners.indexOf(listener), 1);
      listener.resolve(at);
    }
    if (res.json.token) {
      entry.tokens++;
      entry.outcome = 'token';
      after = res.json.version;
      continue; // ask once more: a second token would be a duplicate; 410 ends it
    }
    if (res.json.status === 'expired' || res.json.status === 'scan-cancel') {
      entry.outcome = res.json.status;
      break;
    }
    after = res.json.version;
  }
}

/**
 * Every PC of `round` long-polls, all at once, or their first polls spread evenly over
 * `spreadMs` (then they poll again at the same spread, as PCs that came one after another do).
 */
function wait({ round = 1, spreadMs = 0 }) {
  const entries = held.filter((entry) => !entry.done && entry.round === round);
  let started = 0;
  for (const entry of entries) {
    const delay = entries.length > 1 ? (started * spreadMs) / entries.length : 0;
    started++;
    heldOpen++;
    entry.waiting = true;
    entry.done = sleep(delay)
      .then(() => waitOn(entry.base, entry))
      .catch((err) => {
        entry.outcome = `error ${err.message}`;
      })
      .finally(() => {
        entry.waiting = false;
        heldOpen--;
      });
  }
  return { started, open: heldOpen };
}

/**
 * PCs waiting, those of them whose poll began less than `youngerThanMs` ago (their object may
 * still be loaded), and how long ago the latest poll began.
 */
function count({ youngerThanMs = 0 }) {
  const t = now();
  const waiting = held.filter((e) => e.waiting);
  const younger = waiting.filter((e) => e.pollSince > t - youngerThanMs).length;
  const latestPollMs = waiting.length ? t - waiting.reduce((m, e) => Math.max(m, e.pollSince ?? 0), 0) : null;
  // PCs whose wait ended although nobody scanned: a poll that failed (the runtime died, a reset).
  const ended = held.filter((e) => !e.waiting && e.outcome !== null);
  const outcomes = {};
  for (const e of ended) outcomes[e.outcome] = (outcomes[e.outcome] ?? 0) + 1;
  return {
    open: heldOpen,
    younger,
    latestPollMs,
    total: held.length,
    ended: ended.length,
    outcomes,
    polls: held.reduce((n, e) => n + e.polls, 0),
    retried: held.reduce((n, e) => n + e.retried, 0),
    retriedByStatus,
  };
}

/** Timing summary of `values` (ms), for the report. */
function timings(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? null };
}

/** Scans every code, confirms one in `every`, and lets the rest `expire` or cancels them (`rest`). */
async function finish({ base, phone, every = 2, rest = 'expire', concurrency = 8, timeoutSeconds, evictedAfterMs }) {
  const t0 = now();
  const heard = [];
  const heardEvicted = [];
  const tokenMs = [];
  let stepErrors = 0;
  await pool(held.length, concurrency, async (i) => {
    const entry = held[i];
    try {
      // How long its poll has waited: an object idle that long has been evicted.
      const waited = now() - entry.pollSince;
      const scanHeard = nextAnswer(entry, (view) => view.version >= 1);
      const scanned = await act(base, entry.qr, 'scan', phone);
      const scannedAt = now();
      if (scanned.status !== 200) return void (scanned.status === 410 ? null : stepErrors++);
      const at = await Promise.race([scanHeard, sleep(30_000).then(() => null)]);
      if (at === null) return void stepErrors++;
      heard.push(at - scannedAt);
      if (waited >= evictedAfterMs) heardEvicted.push(at - scannedAt);
      if (i % every !== 0 && rest === 'expire') return;
      const step = i % every === 0 ? 'confirm' : 'cancel';
      const tokenHeard = nextAnswer(entry, (view) => Boolean(view.token));
      const done = await act(base, entry.qr, step, phone);
      const doneAt = now();
      if (done.status !== 200) return void (done.status === 410 ? null : stepErrors++);
      if (step === 'confirm') {
        entry.confirmed = true;
        const got = await Promise.race([tokenHeard, sleep(30_000).then(() => null)]);
        if (got !== null) tokenMs.push(got - doneAt);
      }
    } catch {
      stepErrors++;
    }
  });
  const stepsSeconds = (now() - t0) / 1000;
  await Promise.race([Promise.all(held.map((e) => e.done)), sleep(timeoutSeconds * 1000)]);
  const outcomes = {};
  for (const e of held) outcomes[e.outcome ?? 'unanswered'] = (outcomes[e.outcome ?? 'unanswered'] ?? 0) + 1;
  return {
    total: held.length,
    confirmed: held.filter((e) => e.confirmed).length,
    stepErrors,
    outcomes,
    // Lost: a PC whose poll ended without its token (after a confirm) or without an end it was told.
    lost: held.filter(
      (e) => !['token', 'expired', 'scan-cancel'].includes(e.outcome) || (e.confirmed && e.tokens === 0),
    ).length,
    duplicates: held.filter((e) => e.tokens > 1).length,
    // Polls answered 429 or 5xx and tried again (each still counted lost if it never ended).
    retried: held.reduce((n, e) => n + e.retried, 0),
    scanHeardMs: timings(heard),
    scanHeardEvictedMs: timings(heardEvicted),
    tokenMs: timings(tokenMs),
    stepsSeconds,
    seconds: (now() - t0) / 1000,
    polls: held.reduce((n, e) => n + e.polls, 0),
  };
}

/**
 * 6. What the token check costs: the same sequential requests with and without it.
 * `GET /api/me` verifies the HS256 token and reads its linked-device session from D1 (the
 * revocation check); `GET /api/config` does neither. Both answer a small JSON body.
 */
async function tokencheck({ base, phone, requests }) {
  /** `path` `requests` times in a row; `headers` may be made afresh for each (outside the timing). */
  const timed = async (path, headers) => {
    const ms = [];
    for (let i = 0; i < requests; i++) {
      const sent = typeof headers === 'function' ? await headers() : headers;
      const t = now();
      expectStatus(await call(base, 'GET', path, sent), 200, path);
      ms.push(now() - t);
    }
    return ms;
  };
  // A PC token bound to a DPoP key (RFC 9449): each request carries a fresh proof of that key,
  // signed by the client before the clock starts (what it adds on the server is measured).
  const key = await generateKeyPair('ES256');
  const bound = await boundPcToken(base, phone, key);
  const withProof = async () => ({
    authorization: `DPoP ${bound}`,
    dpop: await dpopProof(key, 'GET', `${base}/api/me`, bound),
  });
  await timed('/api/me', { authorization: `Bearer ${phone}` }); // warm-up
  await timed('/api/me', withProof);
  await timed('/api/config', {});
  return {
    me: await timed('/api/me', { authorization: `Bearer ${phone}` }),
    meDpop: await timed('/api/me', withProof),
    config: await timed('/api/config', {}),
  };
}

/** A DPoP proof of `key` for `method` on `url` (with the hash of `accessToken`, if any). */
async function dpopProof(key, method, url, accessToken) {
  const claims = { htm: method, htu: url, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID() };
  if (accessToken) {
    claims.ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken))).toString(
      'base64url',
    );
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(key.publicKey) })
    .sign(key.privateKey);
}

/** A PC's QR login made and collected with proofs of `key`, approved by `phone`: its DPoP-bound token. */
async function boundPcToken(base, phone, key) {
  const created = expectStatus(
    await call(base, 'POST', '/api/qrcodes', { dpop: await dpopProof(key, 'POST', `${base}/api/qrcodes`) }),
    201,
    'create (DPoP)',
  );
  const asPhone = { authorization: `Bearer ${phone}` };
  expectStatus(await call(base, 'POST', `/api/qrcodes/${created.qrcode_id}/scan`, asPhone), 200, 'scan');
  expectStatus(await call(base, 'POST', `/api/qrcodes/${created.qrcode_id}/confirm`, asPhone), 200, 'confirm');
  const status = `/api/qrcodes/${created.qrcode_id}/status`;
  const polled = expectStatus(
    await call(base, 'GET', `${status}?wait=0`, {
      'x-poll-token': created.poll_token,
      dpop: await dpopProof(key, 'GET', `${base}${status}`),
    }),
    200,
    'status (DPoP)',
  );
  if (polled.token_type !== 'DPoP' || !polled.token) throw new Failure('the bound login handed out no DPoP token');
  return polled.token;
}

async function login({ base, username, password, seed = false }) {
  if (seed) {
    const query = `?username=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`;
    return expectStatus(await call(base, 'GET', `/login${query}`), 200, 'login').token;
  }
  const res = await call(base, 'POST', '/api/login', {}, { username, password });
  return expectStatus(res, 200, 'login').token;
}

/**
 * 7. Pages watching their sessions (`GET /api/sessions/watch`): `sessions` password sign-ins of
 * `username`, each watched by `pages` open streams (tabs), held open here until `watchRevoke`.
 * Each stream's `ended` event is timed as it arrives.
 */
const watching = { revoker: null, sessions: [] };

async function watchSignIn({ base, username, password, sessions }) {
  const signIn = async () => {
    const res = await call(base, 'POST', '/api/login', {}, { username, password });
    return expectStatus(res, 200, 'login').token;
  };
  watching.revoker = await signIn();
  for (let i = 0; i < sessions; i++) {
    const token = await signIn();
    const sid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid;
    watching.sessions.push({ sid, token, pages: [] });
  }
  return { sessions: watching.sessions.length };
}

async function watchOpen({ base, pages }) {
  for (const entry of watching.sessions) {
    const { token } = entry;
    await Promise.all(
      Array.from({ length: pages }, async () => {
        const page = { heardAt: null, comments: 0, error: null, done: null };
        entry.pages.push(page);
        const res = await request(`${base}/api/sessions/watch`, {
          dispatcher: agent,
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        });
        if (res.statusCode !== 200) throw new Failure(`watch: ${res.statusCode} ${await res.body.text()}`);
        let opened;
        const open = new Promise((resolve) => {
          opened = resolve;
        });
        page.done = (async () => {
          let buffer = '';
          try {
            for await (const chunk of res.body) {
              buffer += chunk.toString('utf8');
              for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
                const block = buffer.slice(0, at);
                buffer = buffer.slice(at + 2);
                if (block.startsWith(':')) page.comments++;
                if (block === ': watching') opened();
                if (block.startsWith('event: ended')) page.heardAt = now();
              }
            }
          } catch (err) {
            page.error = String(err);
          }
          opened();
        })();
        await open;
      }),
    );
  }
  return { sessions: watching.sessions.length, pages: watching.sessions.reduce((n, e) => n + e.pages.length, 0) };
}

/** How many watching pages are still open, and the keep-alive comments they heard so far. */
function watchCount() {
  const pages = watching.sessions.flatMap((e) => e.pages);
  return {
    open: pages.filter((p) => p.heardAt === null && p.error === null).length,
    comments: pages.reduce((n, p) => n + p.comments, 0),
  };
}

/**
 * Signs each watched session out (`DELETE /api/sessions/:sid`, one after the other, from another
 * session of the same user) and times, for every page of it, how long after the request was
 * sent (and after its 204 came back) the page heard `ended`.
 */
async function watchRevoke({ base }) {
  const fromSent = [];
  const fromAnswer = [];
  let missed = 0;
  for (const entry of watching.sessions) {
    const sent = now();
    const res = await call(base, 'DELETE', `/api/sessions/${entry.sid}`, {
      authorization: `Bearer ${watching.revoker}`,
    });
    const answered = now();
    expectStatus(res, 204, 'revoke');
    await Promise.race([Promise.all(entry.pages.map((p) => p.done)), sleep(5_000)]);
    for (const page of entry.pages) {
      if (page.heardAt === null) {
        missed++;
        continue;
      }
      fromSent.push(page.heardAt - sent);
      fromAnswer.push(page.heardAt - answered);
    }
  }
  const pages = watching.sessions.flatMap((e) => e.pages);
  watching.sessions = [];
  return { fromSent, fromAnswer, missed, errors: pages.filter((p) => p.error).length };
}

const tasks = {
  latency,
  waiting,
  throughput,
  make,
  wait,
  count,
  finish,
  login,
  tokencheck,
  watchSignIn,
  watchOpen,
  watchCount,
  watchRevoke,
};

process.on('message', async (msg) => {
  const cpu0 = process.cpuUsage();
  try {
    const result = await tasks[msg.task](msg);
    const cpu = process.cpuUsage(cpu0);
    process.send({ id: msg.id, ok: true, result, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  } catch (err) {
    process.send({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (err) => console.error('load generator: unhandled', err));
