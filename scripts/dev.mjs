#!/usr/bin/env node
/**
 * `npm run dev`: `wrangler dev` behind the local front (`local-front.mjs`), so that the Worker
 * sees each connection's own address as `CF-Connecting-IP`, never one the client sent.
 *
 *   npm run dev -- [--port 8787] [--ip localhost] [any other `wrangler dev` argument]...
 *
 * The front listens on `--port` / `--ip` (wrangler's defaults: 8787, localhost); `wrangler dev`
 * gets every other argument unchanged and listens on a free loopback port that only the front
 * uses (requests sent there straight have no address the Worker believes). Live reload,
 * `--var`, `--persist-to` and the interactive keys work as with `wrangler dev` itself. A secret
 * (`IDENTITY_JWT_SECRET`, `WEBHOOK_SECRET`, …) comes from `.dev.vars` or the environment, which
 * wins, as with `npm start`: never with `--var`, which npm prints (it says so if one does).
 * The configuration is checked meanwhile; its problems are said before the address to open.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configProblems, describeProblems, loadChecks } from './config-check.mjs';
import { newFrontSecret, startFront } from './local-front.mjs';
import { cliVars, localVars } from './project-config.mjs';
import { secretsFromEnv, secretVarWarnings } from './secrets.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** `--port`/`--ip` (either `--port 8787` or `--port=8787`) for the front; the rest for wrangler. */
export function splitArgs(argv) {
  const front = { port: 8787, ip: 'localhost' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const match = /^--(port|ip)(?:=(.*))?$/.exec(argv[i]);
    if (!match) {
      rest.push(argv[i]);
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    if (match[1] === 'ip') front.ip = value;
    else {
      front.port = Number(value);
      if (!Number.isInteger(front.port) || front.port < 0 || front.port > 65535) {
        throw new Error('--port must be 0 to 65535');
      }
    }
  }
  return { front, rest };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function main() {
  let front;
  let rest;
  try {
    ({ front, rest } = splitArgs(process.argv.slice(2)));
  } catch (err) {
    console.error(`npm run dev: ${err.message}`);
    process.exit(2);
  }
  // The configuration as wrangler dev will give it (wrangler.toml, .dev.vars, --var), checked
  // while wrangler starts; its problems are said as soon as they are known, and always before
  // the address to open.
  loadChecks();
  const checked = localVars()
    .then((vars) =>
      configProblems({ ...vars, ...secretsFromEnv(), ...cliVars(rest) }, { origin: `http://localhost:${front.port}` }),
    )
    .catch((err) => [{ name: '(check)', message: `the configuration could not be checked: ${err.message}` }])
    .then((problems) => {
      for (const line of describeProblems(problems, 'npm run dev')) console.error(line);
    });
  for (const line of secretVarWarnings(cliVars(rest), 'npm run dev')) console.error(line);
  // Secrets in the environment reach the Worker as `npm start` gives them (over .dev.vars), on
  // wrangler's command line only: npm prints its own, not this one, and wrangler shows "(hidden)".
  const secretArgs = Object.entries(secretsFromEnv())
    .filter(([name]) => !(name in cliVars(rest)))
    .flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  const inner = await freePort();
  const secret = newFrontSecret();
  const server = await startFront({
    host: front.ip,
    port: front.port,
    target: { host: '127.0.0.1', port: inner },
    secret,
  });
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      'dev',
      ...secretArgs,
      ...rest,
      '--ip',
      '127.0.0.1',
      '--port',
      String(inner),
      '--var',
      `LOCAL_FRONT_SECRET:${secret}`,
    ],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        // Miniflare fetches Cloudflare's `Request.cf` sample at start-up (offline: a getaddrinfo
        // ENOTFOUND stack, twice). Behind the front the Worker ignores `request.cf` anyway
        // (src/http/request-info.ts), so it is not fetched.
        CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
      },
    },
  );
  const url = server.url.href.replace(/\/$/, '');
  void (async () => {
    // Say where to go once the Worker answers through the front.
    for (;;) {
      try {
        const res = await fetch(`${url}/api/config`);
        if (res.status !== 503) break;
      } catch {
        // the front is up; wrangler is not yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await checked;
    console.log(`\nnpm run dev: open ${url} (the local front; wrangler dev behind it on 127.0.0.1:${inner})`);
  })();
  const stop = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', async (code, signal) => {
    await server.close();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

await main();
