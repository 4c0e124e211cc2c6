/**
 * The QR image as served: small, one path, and a QR that a real decoder (jsQR) reads back to
 * the scan URL. The SVG is rasterised here from its own path, so what is checked is exactly
 * what a browser would paint.
 */
import fc from 'fast-check';
import jsQR from 'jsqr';
import { describe, expect, it } from 'vitest';
import { maskPenalty, qrDataUrl, qrMatrix } from '../../src/qr/qr-image';

const ID = 'a0df8a3d855b6944fc2358bdb383fb9dd64549bf00f4f08a7917d7013093e49c';
const ORIGINS = [
  'http://localhost:8787',
  'http://192.168.1.23:8787',
  'https://login.example',
  'https://qrcode-login.some-account.workers.dev',
];

/** The SVG text of a `data:image/svg+xml,` URL. */
function svgOf(dataUrl: string): string {
  const prefix = 'data:image/svg+xml,';
  expect(dataUrl.startsWith(prefix)).toBe(true);
  return decodeURIComponent(dataUrl.slice(prefix.length));
}

/**
 * The dark modules the SVG paints, quiet zone included: its one stroked path is a list of
 * `M x y` / `m dx dy` moves and `h n` strokes of width 1, each centred on a module row.
 */
function paintedModules(svg: string): boolean[][] {
  const size = Number(/viewBox='0 0 (\d+) (\d+)'/.exec(svg)?.[1]);
  expect(size).toBeGreaterThan(20);
  expect(svg).toContain(`<path fill='#fff' d='M0 0h${size}v${size}H0z'/>`);
  const strokes = [...svg.matchAll(/<path stroke='#000' d='([^']*)'\/>/g)];
  expect(strokes).toHaveLength(1);
  const grid = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of strokes[0]![1]!.matchAll(/([MmHh])([-\d. ]+)/g)) {
    const nums = args!.trim().split(/\s+/).map(Number);
    if (cmd === 'M') [x, y] = [nums[0]!, nums[1]!];
    else if (cmd === 'm') [x, y] = [x + nums[0]!, y + nums[1]!];
    else {
      const to = cmd === 'h' ? x + nums[0]! : nums[0]!;
      // A stroke of width 1 centred on y = row + 0.5 covers exactly that module row.
      expect(y % 1).toBe(0.5);
      for (let col = Math.min(x, to); col < Math.max(x, to); col++) grid[Math.floor(y)]![col] = true;
      x = to;
    }
  }
  return grid;
}

/** RGBA pixels of the modules at `scale` pixels each, for jsQR. */
function rasterise(grid: boolean[][], scale: number): { data: Uint8ClampedArray; width: number } {
  const width = grid.length * scale;
  const data = new Uint8ClampedArray(width * width * 4).fill(255);
  grid.forEach((row, r) => {
    row.forEach((dark, c) => {
      if (!dark) return;
      for (let py = r * scale; py < (r + 1) * scale; py++) {
        for (let px = c * scale; px < (c + 1) * scale; px++)
          data.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
      }
    });
  });
  return { data, width };
}

/** qrcode-svg's `QRUtil.getLostPoint`, transcribed literally, to check the fast score against. */
function referencePenalty(m: boolean[][]): number {
  const n = m.length;
  const dark = (r: number, c: number) => m[r]![c]!;
  let lost = 0;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      let same = 0;
      for (let r = -1; r <= 1; r++) {
        if (row + r < 0 || n <= row + r) continue;
        for (let c = -1; c <= 1; c++) {
          if (col + c < 0 || n <= col + c || (r === 0 && c === 0)) continue;
          if (dark(row, col) === dark(row + r, col + c)) same++;
        }
      }
      if (same > 5) lost += 3 + same - 5;
    }
  }
  for (let row = 0; row < n - 1; row++) {
    for (let col = 0; col < n - 1; col++) {
      const count = [dark(row, col), dark(row + 1, col), dark(row, col + 1), dark(row + 1, col + 1)].filter(
        Boolean,
      ).length;
      if (count === 0 || count === 4) lost += 3;
    }
  }
  const finder = [true, false, true, true, true, false, true];
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n - 6; col++) if (finder.every((d, k) => dark(row, col + k) === d)) lost += 40;
  }
  for (let col = 0; col < n; col++) {
    for (let row = 0; row < n - 6; row++) if (finder.every((d, k) => dark(row + k, col) === d)) lost += 40;
  }
  const darkCount = m.flat().filter(Boolean).length;
  return lost + (Math.abs((100 * darkCount) / n / n - 50) / 5) * 10;
}

describe('The QR image', () => {
  it.each(ORIGINS)('decodes back to the scan URL (%s)', (origin) => {
    const scanUrl = `${origin}/confirm?id=${ID}`;
    const grid = paintedModules(svgOf(qrDataUrl(scanUrl)));
    const { data, width } = rasterise(grid, 4);
    const code = jsQR(data, width, width);
    expect(code?.data).toBe(scanUrl);
  });

  it('paints exactly the module matrix, inside a quiet zone of four modules', () => {
    const scanUrl = `https://login.example/confirm?id=${ID}`;
    const modules = qrMatrix(scanUrl);
    const grid = paintedModules(svgOf(qrDataUrl(scanUrl)));
    expect(grid).toHaveLength(modules.length + 8);
    const inner = grid.slice(4, -4).map((row) => row.slice(4, -4));
    expect(inner).toEqual(modules.map((row) => row.map(Boolean)));
    expect(grid.slice(0, 4).flat().some(Boolean)).toBe(false);
    expect(grid.slice(-4).flat().some(Boolean)).toBe(false);
  });

  it('is at most 8 KB as a data URL, even for a long origin', () => {
    for (const origin of ORIGINS) {
      expect(new TextEncoder().encode(qrDataUrl(`${origin}/confirm?id=${ID}`)).byteLength).toBeLessThanOrEqual(8192);
    }
  });

  it('decodes for any id the namespace could issue', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const id = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
        const scanUrl = `http://localhost:8787/confirm?id=${id}`;
        const { data, width } = rasterise(paintedModules(svgOf(qrDataUrl(scanUrl))), 3);
        expect(jsQR(data, width, width)?.data).toBe(scanUrl);
      }),
      { numRuns: 15 },
    );
  });

  it("scores masks exactly as qrcode-svg does, so it picks qrcode-svg's mask", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 21, max: 57 })
          .chain((n) =>
            fc.array(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { minLength: n, maxLength: n }),
          ),
        (m) => {
          expect(maskPenalty(m)).toBe(referencePenalty(m));
        },
      ),
      { numRuns: 60 },
    );
  });
});
