/** The part of qrcode-svg (which ships no types) that `qr-image.ts` uses. */
declare module 'qrcode-svg' {
  interface Options {
    content: string;
    ecl?: 'L' | 'M' | 'Q' | 'H';
    padding?: number;
    join?: boolean;
  }
  export default class QRCode {
    constructor(options: Options);
    qrcode: { modules: boolean[][] };
    svg(): string;
  }
}
