/**
 * @module
 * The QR image: drawn from qrcode-svg's module matrix as one compact SVG path (a stroke of
 * width 1 along each run of dark modules), far smaller and faster than qrcode-svg's own
 * `svg()`, which writes a rectangle per module. Served as a `data:` URL for `<img src>`.
 *
 * qrcode-svg spends about 90 % of its time choosing the mask: it scores each of the eight
 * candidate matrices through a bounds-checked method call per module neighbour. We score them
 * the same way, with the same arithmetic, over a flat array: the same mask wins, so the matrix
 * is the one qrcode-svg would draw, in about a tenth of the time (`npm run bench` measures it).
 */
import QRCode from 'qrcode-svg';

/** Modules of light border on each side, as the QR specification asks. */
const QUIET_ZONE = 4;

/** The part of qrcode-svg's internal model that mask selection uses. */
interface QrModel {
  moduleCount: number;
  modules: (boolean | null)[][];
  makeImpl(test: boolean, maskPattern: number): void;
  getBestMaskPattern(): number;
}

/**
 * qrcode-svg's own penalty score (its `QRUtil.getLostPoint`, not quite the standard's), term
 * for term and in the same floating-point order, so that ties and the winner are its own.
 */
export function maskPenalty(modules: readonly (readonly (boolean | null)[])[]): number {
  const n = modules.length;
  // The matrix with a light border of one module, so that no neighbour needs a bounds check.
  const w = n + 2;
  const g = new Uint8Array(w * w);
  let darkCount = 0;
  for (let r = 0; r < n; r++) {
    const row = modules[r]!;
    const base = (r + 1) * w + 1;
    for (let c = 0; c < n; c++) {
      if (row[c]) {
        g[base + c] = 1;
        darkCount++;
      }
    }
  }
  // Dark modules in each horizontal triple, centred on every cell.
  const across = new Uint8Array(w * w);
  for (let i = 1; i < w * w - 1; i++) across[i] = g[i - 1]! + g[i]! + g[i + 1]!;
  let lost = 0;
  for (let r = 1; r <= n; r++) {
    const rows = r === 1 || r === n ? 2 : 3;
    for (let c = 1; c <= n; c++) {
      const i = r * w + c;
      const self = g[i]!;
      // 1. A module with more than five like neighbours of eight (fewer at the edges).
      const darkAround = across[i - w]! + across[i]! + across[i + w]! - self;
      const around = rows * (c === 1 || c === n ? 2 : 3) - 1;
      const same = self ? darkAround : around - darkAround;
      if (same > 5) lost += 3 + same - 5;
      // 2. Each 2 × 2 block of one colour.
      if (r < n && c < n) {
        const count = self + g[i + 1]! + g[i + w]! + g[i + w + 1]!;
        if (count === 0 || count === 4) lost += 3;
      }
      // 3. The finder-like run dark-light-dark-dark-dark-light-dark, across and down.
      if (self && c <= n - 6 && !g[i + 1] && g[i + 2] && g[i + 3] && g[i + 4] && !g[i + 5] && g[i + 6]) {
        lost += 40;
      }
      if (
        self &&
        r <= n - 6 &&
        !g[i + w] &&
        g[i + 2 * w] &&
        g[i + 3 * w] &&
        g[i + 4 * w] &&
        !g[i + 5 * w] &&
        g[i + 6 * w]
      ) {
        lost += 40;
      }
    }
  }
  // 4. How far the share of dark modules is from half (qrcode-svg's arithmetic, in its order).
  const ratio = Math.abs((100 * darkCount) / n / n - 50) / 5;
  return lost + ratio * 10;
}

/** qrcode-svg's mask choice (lowest penalty, first on a tie) with the fast score. */
function bestMaskPattern(this: QrModel): number {
  let best = 0;
  let min = 0;
  for (let mask = 0; mask < 8; mask++) {
    this.makeImpl(true, mask);
    const lost = maskPenalty(this.modules);
    if (mask === 0 || min > lost) {
      min = lost;
      best = mask;
    }
  }
  return best;
}

let patched = false;

/** Swaps the fast mask choice into qrcode-svg's model, once per isolate. */
function patchMaskChoice(model: QrModel): void {
  const proto = Object.getPrototypeOf(model) as QrModel;
  if (typeof proto.getBestMaskPattern === 'function' && typeof proto.makeImpl === 'function') {
    proto.getBestMaskPattern = bestMaskPattern;
  }
  patched = true;
}

/** The module matrix of `text` (true = dark), error correction level M. */
export function qrMatrix(text: string): boolean[][] {
  const qr = new QRCode({ content: text, ecl: 'M', padding: 0, join: true });
  // The first QR of an isolate is made the slow way; it lends us the model's prototype.
  if (!patched) patchMaskChoice(qr.qrcode as unknown as QrModel);
  return qr.qrcode.modules;
}

/** An SVG of the matrix: a white square and one path whose horizontal strokes are the dark runs. */
export function qrSvg(modules: boolean[][]): string {
  const size = modules.length + 2 * QUIET_ZONE;
  let d = '';
  modules.forEach((row, y) => {
    // Each row starts with an absolute move to the middle of its first module line; every
    // next run is a relative move from where the previous one ended.
    let penX = -1;
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      d += penX < 0 ? `M${start + QUIET_ZONE} ${y + QUIET_ZONE + 0.5}` : `m${start - penX} 0`;
      d += `h${x - start}`;
      penX = x;
    }
  });
  return (
    `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 ${size} ${size}' shape-rendering='crispEdges'>` +
    `<path fill='#fff' d='M0 0h${size}v${size}H0z'/><path stroke='#000' d='${d}'/></svg>`
  );
}

/** The QR of `text` as a `data:image/svg+xml` URL, escaped only where a URL needs it. */
export function qrDataUrl(text: string): string {
  const svg = qrSvg(qrMatrix(text));
  return `data:image/svg+xml,${svg.replace(/[<>#%"]/g, (ch) => encodeURIComponent(ch))}`;
}
