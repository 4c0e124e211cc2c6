/**
 * The README's "Adopt it on your site" recipes run as written: the shell session of a whole
 * login with a site's own users (`IDENTITY=jwt`, against `npm start` with the `--var`s the
 * README gives `npm run dev`), and the backend's verification of the computer's token with jose.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { npmStart, type StartedServer } from '../support/npm-start.ts';
import { ROOT, runCommand } from '../support/operator-scripts.ts';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced code blocks of the README section whose heading is `heading`. */
function blocks(heading: string): string[] {
  const start = README.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = README.slice(start + 1).search(/\n##/);
  const section = README.slice(start, end < 0 ? undefined : start + 1 + end);
  return [...section.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-readme-'));
let server: StartedServer;
const [devCommand = '', session = ''] = blocks('The whole flow with your users, from a shell');

beforeAll(async () => {
  // The Worker as the README starts it: its `export`ed secrets and its `--var`s, on the production bundle.
  const vars = [...devCommand.matchAll(/--var (\S+)/g)].flatMap((m) => ['--var', m[1] ?? '']);
  const env = Object.fromEntries([...devCommand.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  expect(vars.length).toBeGreaterThan(0);
  expect(Object.keys(env)).toEqual(['IDENTITY_JWT_SECRET']);
  server = await npmStart(storage, vars, { env });
}, 120_000);

it('puts no secret on a command line, where npm would print it', () => {
  for (const block of [devCommand, session]) {
    expect(block).not.toMatch(
      /--var[ =](SIGNING_KEY|SIGNING_KEY_PREVIOUS|WEBHOOK_SECRET|IDENTITY_JWT_SECRET|INTROSPECTION_CLIENTS):/,
    );
  }
  expect(README).not.toMatch(
    /--var[ =](SIGNING_KEY|SIGNING_KEY_PREVIOUS|WEBHOOK_SECRET|IDENTITY_JWT_SECRET|INTROSPECTION_CLIENTS):/,
  );
});

afterAll(async () => {
  await server?.stop();
  rmSync(storage, { recursive: true, force: true });
});

it("the shell session signs the computer in as the site's user, as the README says it prints", async () => {
  const script = `${session.replaceAll('http://localhost:8787', server.base)}\nprintf 'PC=%s\\n' "$PC"\n`;
  const ran = await runCommand('bash', ['-euo', 'pipefail', '-c', script]);
  expect(ran.code, ran.stderr).toBe(0);
  const promised = /\/api\/me .*# (\{.*\})$/m.exec(session)?.[1];
  expect(promised).toBeDefined();
  expect(ran.stdout).toContain(`${promised}\n`);

  // The backend's check of that token, the README's jose snippet as it stands.
  const pc = /^PC=(.+)$/m.exec(ran.stdout)?.[1] ?? '';
  const snippet =
    blocks("Your backend trusts the computer's token").find((b) => b.includes('createRemoteJWKSet')) ?? '';
  const program = `const token = process.env.TOKEN;\n${snippet.replaceAll('https://login.example.com', server.base)}\nconsole.log(JSON.stringify(payload));`;
  const verified = await runCommand(process.execPath, ['--input-type=module', '-e', program], { env: { TOKEN: pc } });
  expect(verified.code, verified.stderr).toBe(0);
  expect(JSON.parse(verified.stdout)).toMatchObject({
    sub: 'alice',
    name: 'Alice',
    sid: expect.any(String),
    iss: server.base,
    aud: 'qrcode-login',
  });
}, 120_000);
