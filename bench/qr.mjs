#!/usr/bin/env node
/**
 * 5. The QR image: CPU time to draw one and its size, as served (`qrDataUrl`, the `img` of
 * `POST /api/qrcodes`), against qrcode-svg's own `svg()`. Run by `bench/run.mjs` in a fresh
 * Node process (V8, as in workerd): qrcode-svg is timed before our module first runs, because
 * our first QR swaps a faster mask scorer into qrcode-svg's model for the rest of the process.
 */
import QRCode from 'qrcode-svg';

const [iterations = 2000] = process.argv.slice(2).map(Number);
const ID = 'a0df8a3d855b6944fc2358bdb383fb9dd64549bf00f4f08a7917d7013093e49c';
const urls = {
  local: `http://localhost:8787/confirm?id=${ID}`,
  workersDev: `https://qrcode-login.some-account.workers.dev/confirm?id=${ID}`,
};

/** CPU milliseconds per call of `fn`, after a warm-up, and the size of what it returns. */
function measure(fn) {
  for (let i = 0; i < Math.max(50, iterations / 10); i++) fn();
  const cpu0 = process.cpuUsage();
  let out;
  for (let i = 0; i < iterations; i++) out = fn();
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: (cpu.user + cpu.system) / 1000 / iterations, bytes: Buffer.byteLength(out) };
}

const results = {};
for (const [name, url] of Object.entries(urls)) {
  const svg = measure(() => new QRCode({ content: url, ecl: 'M' }).svg());
  const dataUrl = measure(
    () => `data:image/svg+xml;base64,${Buffer.from(new QRCode({ content: url, ecl: 'M' }).svg()).toString('base64')}`,
  );
  results[name] = { url, qrcodeSvg: svg, qrcodeSvgDataUrl: dataUrl };
}
const { qrDataUrl, qrMatrix } = await import('../src/qr/qr-image.ts');
for (const [name, url] of Object.entries(urls)) {
  results[name].modules = qrMatrix(url).length;
  results[name].served = measure(() => qrDataUrl(url));
}
process.stdout.write(`${JSON.stringify({ iterations, results })}\n`);
