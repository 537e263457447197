import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BackgroundProcess,
  choosePort,
  type DemoServer,
  DemoServerError,
  isSameServer,
  readDemoServers,
  recordDemoServers,
  sightProcess,
  startTicksNow,
  startTicksOf,
  stopDemoServers,
  stopOwnServer,
  waitUntilReady,
} from './demo-servers';

// A /proc/<pid>/stat line: pid, (comm), state, then fields 4… (field 22 = starttime = 4242).
const stat = (comm: string, state = 'S') =>
  `1234 (${comm}) ${state} 1 1234 1234 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 11 0 4242 1000000 2000 0 0\n`;

const server = (over: Partial<DemoServer> = {}): DemoServer => ({
  service: 'registry-api',
  pid: 1234,
  startTicks: '4242',
  url: 'http://127.0.0.1:9103',
  log: '/tmp/registry-api.log',
  ...over,
});

describe('startTicksOf', () => {
  it('reads field 22, counting after the last parenthesis of the command name', () => {
    expect(startTicksOf(stat('node'))).toBe('4242');
    expect(startTicksOf(stat('a (b) c'))).toBe('4242');
  });

  it('gives null for a zombie (it has ended) and for what is not a stat line', () => {
    expect(startTicksOf(stat('node', 'Z'))).toBeNull();
    expect(startTicksOf('')).toBeNull();
    expect(startTicksOf('1234 (node) S 1 2')).toBeNull();
  });
});

describe('isSameServer', () => {
  const argv = [
    '/usr/bin/node',
    '/repo/packages/cli/bin/boarding.cjs',
    'serve',
    'registry-api',
    '--port',
    '9103',
  ];

  it('is the recorded server when start time and `serve <service>` both match', () => {
    expect(isSameServer(server(), { startTicks: '4242', argv })).toBe(true);
  });

  it('is not when the pid now belongs to another process, or to another service', () => {
    expect(isSameServer(server(), { startTicks: '9999', argv })).toBe(false);
    expect(isSameServer(server(), { startTicks: '4242', argv: ['/usr/bin/vim'] })).toBe(false);
    expect(isSameServer(server({ service: 'hes-stand-in' }), { startTicks: '4242', argv })).toBe(false);
    expect(isSameServer(server(), null)).toBe(false);
  });

  it('is never, without a recorded start time (no /proc when it was started)', () => {
    expect(isSameServer(server({ startTicks: null }), { startTicks: '4242', argv })).toBe(false);
  });
});

describe('the record of servers left running', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-servers-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is written owner-only and read back; an empty list removes it', () => {
    const file = join(dir, 'servers.json');
    recordDemoServers([server()], file);
    expect(readDemoServers(file)).toEqual([server()]);
    recordDemoServers([], file);
    expect(existsSync(file)).toBe(false);
    expect(readDemoServers(file)).toEqual([]);
  });

  it('is ignored when it cannot be read: it names no process to signal', () => {
    const file = join(dir, 'servers.json');
    writeFileSync(file, '[{"pid": "1"}]');
    expect(readDemoServers(file)).toEqual([]);
  });
});

// Signals real processes, so it needs /proc to recognise them (Linux: the stack's platform).
const withProc = existsSync('/proc/self/stat') ? describe : describe.skip;

withProc('stopDemoServers', () => {
  let dir: string;
  const children: BackgroundProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-servers-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // ended already
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // A process whose argv reads like `boarding serve registry-api`.
  const startFakeServer = (): BackgroundProcess => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'serve', 'registry-api'], {
      stdio: 'ignore',
    });
    if (child.pid === undefined) throw new Error('not started');
    const exit = new Promise<string>((resolve) =>
      child.once('exit', (code, sig) => resolve(`${sig ?? code}`)),
    );
    const started = { pid: child.pid, exit };
    children.push(started);
    return started;
  };

  it('stops a recorded server that is still that process, and forgets the record', async () => {
    const child = startFakeServer();
    const file = join(dir, 'servers.json');
    const recorded = server({ pid: child.pid, startTicks: startTicksNow(child.pid) });
    recordDemoServers([recorded], file);

    const result = await stopDemoServers(file);

    expect(result).toEqual({ stopped: [recorded], gone: [], unverified: [] });
    expect(await child.exit).toBe('SIGTERM');
    expect(existsSync(file)).toBe(false);
  });

  it('leaves alone a process that got the pid since (another start time)', async () => {
    const child = startFakeServer();
    const file = join(dir, 'servers.json');
    const recorded = server({ pid: child.pid, startTicks: '1' });
    recordDemoServers([recorded], file);

    const result = await stopDemoServers(file);

    expect(result).toEqual({ stopped: [], gone: [recorded], unverified: [] });
    expect(sightProcess(child.pid)).not.toBeNull();
    expect(existsSync(file)).toBe(false);
  });

  it('keeps the record of a server it could not verify', async () => {
    const file = join(dir, 'servers.json');
    const recorded = server({ pid: 999_999_999, startTicks: null });
    recordDemoServers([recorded], file);
    expect(await stopDemoServers(file)).toEqual({ stopped: [], gone: [], unverified: [recorded] });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([recorded]);
  });
});

describe('stopOwnServer', () => {
  it('ends a server this run started, waiting for its exit', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exit = new Promise<string>((resolve) =>
      child.once('exit', (code, sig) => resolve(`${sig ?? code}`)),
    );
    let ended = false;
    void exit.then(() => {
      ended = true;
    });
    await stopOwnServer({ pid: child.pid as number, exit });
    expect(ended).toBe(true);
    expect(await exit).toBe('SIGTERM');
  });
});

describe('choosePort', () => {
  let busy: Server;
  afterEach(() => new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve())));

  it('takes the preferred port when free, another when something listens there', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const taken = (busy.address() as { port: number }).port;
    const other = await choosePort(taken);
    expect(other).not.toBe(taken);
    expect(other).toBeGreaterThan(0);
    expect(await choosePort(other)).toBe(other);
  });
});

describe('waitUntilReady', () => {
  const never: BackgroundProcess = { pid: 1, exit: new Promise<string>(() => undefined) };

  it('resolves once the address answers 200', async () => {
    let calls = 0;
    const http = createHttpServer((_req, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as { port: number };
    try {
      await waitUntilReady('api', `http://127.0.0.1:${port}/readyz`, never, 'x.log', 10_000);
      expect(calls).toBe(3);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('fails as soon as the process ends, pointing at its log', async () => {
    const port = await choosePort(0);
    const ended: BackgroundProcess = { pid: 1, exit: Promise.resolve('exit 1') };
    const wait = waitUntilReady(
      'boarding serve registry-api',
      `http://127.0.0.1:${port}/readyz`,
      ended,
      '/d/r.log',
    );
    await expect(wait).rejects.toBeInstanceOf(DemoServerError);
    await expect(wait).rejects.toThrow(
      'boarding serve registry-api ended (exit 1) before it was ready: see /d/r.log',
    );
  });

  it('fails after the time limit when nothing answers', async () => {
    const port = await choosePort(0);
    await expect(
      waitUntilReady('api', `http://127.0.0.1:${port}/readyz`, never, 'x.log', 500),
    ).rejects.toThrow(/api was not ready within 0\.5s \(ECONNREFUSED\): see x\.log/);
  });
});
