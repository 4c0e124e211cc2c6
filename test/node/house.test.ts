/**
 * The house rules of CONTRIBUTING.md ("Where things live"), checked on the source: each folder of
 * `src/` imports values only from the folders it may, so no loop runs between folders; `src/`
 * itself holds only the entry files; a file over 400 lines says why in its header.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Who may import whom (values): the table of CONTRIBUTING.md. */
const MAY_IMPORT: Record<string, string[]> = {
  'http/': ['env.ts'],
  'qr/': [],
  'tokens/': ['http/'],
  'limits/': ['http/'],
  'webhooks/': ['http/', 'tokens/'],
  'clients/': ['env.ts', 'http/', 'tokens/'],
  'user/': ['http/', 'tokens/'],
  'identity/': ['http/', 'tokens/', 'user/'],
  'pages/': ['http/'],
  'sessions/': ['clients/', 'http/', 'identity/', 'limits/', 'tokens/', 'user/', 'webhooks/'],
  'passkeys/': ['env.ts', 'http/', 'identity/', 'limits/', 'sessions/', 'tokens/', 'user/'],
  'login/': ['http/', 'identity/', 'limits/', 'passkeys/', 'qr/', 'sessions/', 'tokens/', 'webhooks/'],
  'oauth/': [
    'clients/',
    'env.ts',
    'http/',
    'identity/',
    'limits/',
    'login/',
    'pages/',
    'passkeys/',
    'sessions/',
    'tokens/',
    'user/',
  ],
};
const ENTRY = ['app.ts', 'env.ts', 'index.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A file's unit: its top folder (`login/`), or the file itself when it lies in `src/`. */
const unitOf = (file: string): string => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? `${parts[0]}/` : parts[0]!;
};

/** The units each unit imports values from (type-only imports vanish at build time). */
function valueImports(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  const pattern = /^\s*(?:import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"](\.[^'"]+)['"]/gm;
  for (const file of sources(SRC)) {
    for (const [, typeOnly, names = '', spec = ''] of readFileSync(file, 'utf8').matchAll(pattern)) {
      const braces = /^\{([\s\S]*)\}$/.exec(names.trim());
      const allTypes = braces?.[1]
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '));
      if (typeOnly || allTypes) continue;
      const base = resolve(dirname(file), spec);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((c) => existsSync(c) && statSync(c).isFile());
      if (!target) throw new Error(`${relative(SRC, file)} imports ${spec}, which is not there`);
      const [from, to] = [unitOf(file), unitOf(target)];
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from)!.set(to, `${relative(SRC, file)} → ${relative(SRC, target)}`);
    }
  }
  return edges;
}

describe('the house', () => {
  it('each folder imports values only from the folders CONTRIBUTING.md lets it', () => {
    const wrong: string[] = [];
    for (const [from, targets] of valueImports()) {
      if (ENTRY.includes(from)) continue;
      const allowed = MAY_IMPORT[from];
      if (!allowed) {
        wrong.push(`${from} is not in the table of CONTRIBUTING.md`);
        continue;
      }
      for (const [to, why] of targets) if (!allowed.includes(to)) wrong.push(`${from} may not import ${to}: ${why}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the table itself has no loop: every folder sits above the folders it imports', () => {
    const order: string[] = [];
    const visit = (unit: string, path: string[]) => {
      if (path.includes(unit)) throw new Error(`a loop: ${[...path, unit].join(' → ')}`);
      if (order.includes(unit)) return;
      for (const next of MAY_IMPORT[unit] ?? []) visit(next, [...path, unit]);
      order.push(unit);
    };
    for (const unit of Object.keys(MAY_IMPORT)) visit(unit, []);
    expect(order.length).toBeGreaterThan(Object.keys(MAY_IMPORT).length);
  });

  it('src/ holds only the entry files; every other file lives in its capability’s folder', () => {
    const loose = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isFile());
    expect(loose.sort()).toEqual(ENTRY);
  });

  it('a file over 400 lines says why in its header', () => {
    const long = sources(SRC)
      .filter((file) => readFileSync(file, 'utf8').split('\n').length > 400)
      .filter((file) => !/^\/\*\*[\s\S]*?over 400 lines[\s\S]*?\*\//.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(long).toEqual([]);
  });
});
