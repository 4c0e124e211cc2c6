/**
 * @module
 * The QR image: drawn from qrcode-svg's module matrix as one compact SVG path (a stroke of
 * width 1 along each run of dark modules), far smaller and faster than qrcode-svg's own
 * `svg()`, which writes a rectangle per module. Served as a `data:` URL for `<img src>`.
 */
import QRCode from 'qrcode-svg';

/** Modules of light border on each side, as the QR specification asks. */
const QUIET_ZONE = 4;

/** The module matrix of `text` (true = dark), error correction level M. */
export function qrMatrix(text: string): boolean[][] {
  const qr = new QRCode({ content: text, ecl: 'M', padding: 0, join: true });
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
