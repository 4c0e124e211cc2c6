/**
 * A stand-in for wrangler and the Cloudflare account behind it, for the operator scripts' tests
 * (`QR_LOGIN_WRANGLER` points the scripts here): the tests have no account. It keeps the
 * account in the folder `FAKE_CLOUDFLARE` (`account.json`, and the remote D1 database as
 * `d1.sqlite`, run by Node's own SQLite), answers the commands the scripts use as wrangler
 * does (the same JSON, the same errors on stderr, the same exit codes), and records every call
 * in `account.json`'s `calls`. `FAKE_WRANGLER_FAIL="d1 list"` makes that command fail as an
 * account that is not logged in would.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface FakeAccount {
  databases: { uuid: string; name: string }[];
  queues: string[];
  /** The Worker's secrets: for SIGNING_KEY what its keys are, never the keys themselves. */
  worker: {
    secrets: Record<string, { keys?: KeyFacts[] } & KeyFacts>;
  } | null;
  /**
   * Each deploy: the config it named, whether that file existed then, and whether it had queues;
   * for a JSON config (one the scripts made), what it deployed: name, routes, vars, database id.
   */
  deploys: {
    config: string | null;
    existed: boolean;
    queues: boolean;
    deployed?: {
      name: string;
      routes?: unknown;
      workers_dev?: boolean;
      vars: Record<string, string>;
      database_id: string;
    };
  }[];
  calls: string[][];
}

/** What a JWK is, without its value: an RSA key's `bits` are the length of its modulus. */
export interface KeyFacts {
  kty?: string;
  crv?: string;
  alg?: string;
  kid?: string;
  bits?: number;
  private?: boolean;
}

const factsOf = (jwk: Record<string, string>): KeyFacts => ({
  kty: jwk.kty,
  crv: jwk.crv,
  alg: jwk.alg,
  kid: jwk.kid,
  ...(jwk.n ? { bits: Buffer.from(jwk.n, 'base64url').length * 8 } : {}),
  private: typeof jwk.d === 'string',
});

export const emptyAccount = (): FakeAccount => ({ databases: [], queues: [], worker: null, deploys: [], calls: [] });

const dir = process.env.FAKE_CLOUDFLARE;
if (!dir) throw new Error('FAKE_CLOUDFLARE is not set');
const file = path.join(dir, 'account.json');
const account: FakeAccount = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : emptyAccount();
const argv = process.argv.slice(2);
account.calls.push(argv);
const save = () => writeFileSync(file, JSON.stringify(account, null, 2));
const fail = (message: string): never => {
  save();
  process.stderr.write(`✘ [ERROR] ${message}\n`);
  process.exit(1);
};
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const [group, verb, name] = argv;
if (process.env.FAKE_WRANGLER_FAIL === `${group} ${verb}`) {
  fail('You are not logged in. Run `wrangler login`, or set CLOUDFLARE_API_TOKEN.');
}

const d1 = () => {
  const db = new DatabaseSync(path.join(dir, 'd1.sqlite'));
  db.exec('CREATE TABLE IF NOT EXISTS d1_migrations (name TEXT PRIMARY KEY)');
  return db;
};

if (group === 'd1' && verb === 'list') {
  console.log(
    JSON.stringify(
      account.databases.map((db) => ({ ...db, version: 'production', num_tables: 0 })),
      null,
      2,
    ),
  );
} else if (group === 'd1' && verb === 'create') {
  if (account.databases.some((db) => db.name === name)) fail(`A database with that name already exists [code: 7502]`);
  account.databases.push({ uuid: randomUUID(), name: name as string });
  console.log(`✅ Successfully created DB '${name}'`);
} else if (group === 'd1' && verb === 'migrations' && name === 'apply') {
  if (!argv.includes('--remote')) fail('the fake account has only a remote database');
  if (!account.databases.length) fail('Couldn\'t find a D1 DB with the name or binding "DB"');
  const db = d1();
  const applied = new Set(
    db
      .prepare('SELECT name FROM d1_migrations')
      .all()
      .map((r) => r.name),
  );
  const dirOf = path.join(ROOT, 'migrations');
  for (const migration of readdirSync(dirOf)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    if (applied.has(migration)) continue;
    db.exec(readFileSync(path.join(dirOf, migration), 'utf8'));
    db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').run(migration);
    console.log(`applied ${migration}`);
  }
} else if (group === 'd1' && verb === 'execute') {
  if (!argv.includes('--remote')) fail('the fake account has only a remote database');
  const sql = option('--command') ?? '';
  try {
    const results = d1().prepare(sql).all();
    console.log(JSON.stringify([{ results, success: true, meta: { duration: 0 } }], null, 2));
  } catch (err) {
    save();
    console.log(JSON.stringify({ error: { text: `${(err as Error).message}: SQLITE_ERROR` } }, null, 2));
    process.exit(1);
  }
} else if (group === 'queues' && verb === 'info') {
  if (!account.queues.includes(name as string)) {
    fail(`Queue "${name}" does not exist. To create it, run: wrangler queues create ${name}`);
  }
  console.log(`Queue Name: ${name}`);
} else if (group === 'queues' && verb === 'create') {
  if (account.queues.includes(name as string)) fail(`A queue with name ${name} already exists [code: 11009]`);
  account.queues.push(name as string);
  console.log(`✅ Created queue ${name}`);
} else if (group === 'secret' && verb === 'list') {
  if (!account.worker)
    fail('Worker "qrcode-login" not found.\n\nIf this is a new Worker, run `wrangler deploy` first.');
  console.log(
    JSON.stringify(
      Object.keys(account.worker?.secrets ?? {}).map((n) => ({ name: n, type: 'secret_text' })),
      null,
      2,
    ),
  );
} else if (group === 'secret' && verb === 'put') {
  const value = readFileSync(0, 'utf8').trim();
  if (!value) fail('no secret value on stdin');
  account.worker ??= { secrets: {} };
  let facts = {};
  try {
    const jwk = JSON.parse(value);
    facts = Array.isArray(jwk.keys) ? { keys: jwk.keys.map(factsOf) } : factsOf(jwk);
  } catch {
    // not a JWK: only its presence is recorded
  }
  account.worker.secrets[name as string] = facts;
  console.log(`✨ Success! Uploaded secret ${name}`);
} else if (group === 'deploy') {
  const config = option('--config') ?? null;
  const configFile = config ? path.resolve(ROOT, config) : path.join(ROOT, 'wrangler.toml');
  const existed = existsSync(configFile);
  const text = existed ? readFileSync(configFile, 'utf8') : '';
  if (existed && configFile.endsWith('.json')) {
    const json = JSON.parse(text);
    account.deploys.push({
      config,
      existed,
      queues: Boolean(json.queues),
      deployed: {
        name: json.name,
        ...(json.routes ? { routes: json.routes } : {}),
        ...(json.workers_dev !== undefined ? { workers_dev: json.workers_dev } : {}),
        vars: json.vars ?? {},
        database_id: json.d1_databases?.find((d: { binding: string }) => d.binding === 'DB')?.database_id,
      },
    });
  } else account.deploys.push({ config, existed, queues: existed && /^\s*\[\[queues\./m.test(text) });
  account.worker ??= { secrets: {} };
  console.log('Deployed qrcode-login');
} else {
  fail(`the fake wrangler does not know \`${argv.join(' ')}\``);
}
save();
