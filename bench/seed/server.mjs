/**
 * The seed, rebuilt for the benchmark (issue 30: "at least the in-memory seed's figure, measured
 * in the same run"): the NestJS tutorial server this project started from. Every login lives in a
 * `Map` in memory (nothing survives a restart), its id is a UUID, its QR is drawn by `qrcode` as
 * a PNG data URL, the phone's and the PC's tokens are `@nestjs/jwt` (HS256), and the PC learns of
 * the confirmation by asking `check` again. The same routes and answers as the tutorial:
 *
 *   GET /qrcode/generate            → { qrcode_id, img }
 *   GET /qrcode/check?id=           → { status, userInfo?, token? } (the token once confirmed)
 *   GET /qrcode/scan?id=            → 'success'
 *   GET /qrcode/confirm?id=         → 'success' (Authorization: Bearer <the phone's token>)
 *   GET /qrcode/cancel?id=          → 'success'
 *   GET /login?username=&password=  → { token, userInfo }
 *
 * Its users are the demo accounts (dong, guang) and the benchmark's phone users, all in memory.
 * It keeps the tutorial's holes (anyone with the id reads the status and collects the token; no
 * expiry check at confirm; the token can be collected again): it is the figure to beat, not a
 * design. Written in plain JavaScript with Nest's decorators applied by hand (no compile step).
 *
 *   node bench/seed/server.mjs --port N    (bench/servers.mjs installs it and starts it)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  Controller,
  Get,
  Headers,
  Inject,
  Module,
  Query,
  UnauthorizedException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import qrcode from 'qrcode';

/** @type {Map<string, { status: string, userInfo?: { userId: number } }>} */
const map = new Map();

const users = [
  { id: 1, username: 'dong', password: '111' },
  { id: 2, username: 'guang', password: '222' },
  ...Array.from({ length: 32 }, (_, i) => ({ id: 3 + i, username: `bench${i + 1}`, password: '111' })),
];

class AppController {
  /** @type {JwtService} */ jwtService;

  async generate() {
    const uuid = randomUUID();
    const dataUrl = await qrcode.toDataURL(`http://localhost:3000/pages/confirm.html?id=${uuid}`);
    map.set(`qrcode_${uuid}`, { status: 'noscan' });
    return { qrcode_id: uuid, img: dataUrl };
  }

  async check(id) {
    const info = map.get(`qrcode_${id}`);
    if (info?.status === 'scan-confirm') {
      return { token: await this.jwtService.sign({ userId: info.userInfo.userId }), ...info };
    }
    return info;
  }

  scan(id) {
    const info = map.get(`qrcode_${id}`);
    if (!info) throw new BadRequestException('二维码已过期');
    info.status = 'scan-wait-confirm';
    return 'success';
  }

  async confirm(id, auth) {
    let user;
    try {
      const [, token] = auth.split(' ');
      const info = await this.jwtService.verify(token);
      user = users.find((item) => item.id === info.userId);
    } catch {
      throw new UnauthorizedException('token 过期，请重新登录');
    }
    const info = map.get(`qrcode_${id}`);
    if (!info) throw new BadRequestException('二维码已过期');
    info.status = 'scan-confirm';
    info.userInfo = { userId: user.id };
    return 'success';
  }

  cancel(id) {
    const info = map.get(`qrcode_${id}`);
    if (!info) throw new BadRequestException('二维码已过期');
    info.status = 'scan-cancel';
    return 'success';
  }

  async login(username, password) {
    const user = users.find((item) => item.username === username);
    if (!user) throw new UnauthorizedException('用户不存在');
    if (user.password !== password) throw new UnauthorizedException('密码错误');
    return { token: await this.jwtService.sign({ userId: user.id }), userInfo: { userId: user.id } };
  }
}

// The decorators of the tutorial's TypeScript, applied by hand.
const proto = AppController.prototype;
const route = (method, path, ...params) => {
  const descriptor = Object.getOwnPropertyDescriptor(proto, method);
  Get(path)(proto, method, descriptor);
  for (const [index, param] of params.entries()) param(proto, method, index);
};
Inject(JwtService)(proto, 'jwtService');
route('generate', 'qrcode/generate');
route('check', 'qrcode/check', Query('id'));
route('scan', 'qrcode/scan', Query('id'));
route('confirm', 'qrcode/confirm', Query('id'), Headers('Authorization'));
route('cancel', 'qrcode/cancel', Query('id'));
route('login', 'login', Query('username'), Query('password'));
Controller()(AppController);

class AppModule {}
Module({
  imports: [JwtModule.register({ secret: 'guang', signOptions: { expiresIn: '7d' } })],
  controllers: [AppController],
})(AppModule);

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 3000;
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(port, '127.0.0.1');
console.log(`seed ready on http://127.0.0.1:${port}`);
