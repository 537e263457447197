import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectPinnedSftp } from '@boarding/sftp/connect';
import { fingerprintSha256 } from '@boarding/sftp/host-key';
import { ownsProcess, readBanner, readPid, run, stopPid, waitUntil, which } from './exec';
import { chrootSafe, traversableByAll } from './paths';
import { probeStatus, type StackContext, type StackServer } from './server';

const NAME = 'sftp';
/** The account the "Ministry" server accepts uploads for, when the stack runs as root. */
const SFTP_ACCOUNT = 'boarding-sftp';

function paths(ctx: StackContext) {
  const dir = join(ctx.settings.local, 'sftp');
  const keys = join(dir, 'keys');
  // The chroot must satisfy sshd's ownership rule on every path component (see settings.ts).
  const wantChroot = ctx.settings.isRoot;
  const localRoot = join(dir, 'ministry');
  const chroot = !wantChroot
    ? undefined
    : chrootSafe(localRoot) && traversableByAll(localRoot)
      ? localRoot
      : join(ctx.settings.systemDir, 'ministry');
  const root = chroot ?? localRoot;
  return {
    dir,
    keys,
    hostKey: join(keys, 'ssh_host_ed25519_key'),
    clientKey: join(keys, 'client_ed25519'),
    // authorized_keys is read by sshd as the SFTP user, so it sits beside the chroot.
    authorizedKeys: join(chroot ? join(root, '..') : keys, `${chroot ? 'ministry-' : ''}authorized_keys`),
    config: join(dir, 'sshd_config'),
    pid: join(dir, 'sshd.pid'),
    log: join(dir, 'sshd.log'),
    chroot,
    incoming: join(root, 'incoming'),
    // Path of the upload directory as the SFTP client sees it.
    remoteDir: chroot ? '/incoming' : join(root, 'incoming'),
  };
}

function user(ctx: StackContext): string {
  return ctx.settings.isRoot ? SFTP_ACCOUNT : (process.env.USER ?? 'nobody');
}

/** What `ssh-keygen -l -E sha256` prints for the host key: sha256 of the key blob, base64. */
function hostKeyFingerprint(ctx: StackContext): string {
  const pub = readFileSync(`${paths(ctx).hostKey}.pub`, 'utf8');
  return fingerprintSha256(Buffer.from(pub.trim().split(/\s+/)[1] ?? '', 'base64'));
}

async function ensureAccount(ctx: StackContext): Promise<void> {
  if (!ctx.settings.isRoot) return;
  const found = await run(NAME, 'id', ['-u', SFTP_ACCOUNT], { allowFail: true });
  if (found.code !== 0) {
    ctx.report(NAME, `creating system user ${SFTP_ACCOUNT} (SFTP only, no shell)`);
    await run(NAME, 'useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      SFTP_ACCOUNT,
    ]);
  }
  // sshd without PAM refuses a locked account ("!" password); "*" means no password, not locked.
  await run(NAME, 'usermod', ['-p', '*', SFTP_ACCOUNT]);
}

async function ensureKeys(ctx: StackContext): Promise<void> {
  const p = paths(ctx);
  // .local/sftp stays 0755 so the SFTP account can reach its chroot; the keys folder is 0700.
  mkdirSync(p.dir, { recursive: true, mode: 0o755 });
  mkdirSync(p.keys, { recursive: true, mode: 0o700 });
  for (const [file, comment] of [
    [p.hostKey, 'boarding-local-sftp-host'],
    [p.clientKey, 'boarding-delivery'],
  ] as const) {
    if (existsSync(file)) continue;
    ctx.report(NAME, `generating ed25519 key ${file}`);
    await run(NAME, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  }
}

function layout(ctx: StackContext): void {
  const p = paths(ctx);
  const account = user(ctx);
  if (p.chroot) {
    mkdirSync(p.chroot, { recursive: true, mode: 0o755 });
    chmodSync(p.chroot, 0o755);
  }
  mkdirSync(p.incoming, { recursive: true, mode: 0o755 });
  writeFileSync(p.authorizedKeys, readFileSync(`${p.clientKey}.pub`), { mode: 0o644 });
  if (ctx.settings.isRoot) {
    const uid = Number(
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${account}:`))
        ?.split(':')[2],
    );
    if (Number.isInteger(uid)) chownSync(p.incoming, uid, -1);
    // sshd needs its privilege separation directory.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }
  const match = p.chroot
    ? `  ChrootDirectory ${p.chroot}\n  ForceCommand internal-sftp -d /incoming`
    : `  ForceCommand internal-sftp -d ${p.incoming}`;
  const template = readFileSync(join(ctx.settings.infra, 'sshd', 'sshd_config.tmpl'), 'utf8');
  const values: Record<string, string> = {
    port: String(ctx.settings.ports.sftp),
    hostKey: p.hostKey,
    pidFile: p.pid,
    authorizedKeys: p.authorizedKeys,
    user: account,
    match,
  };
  writeFileSync(
    p.config,
    template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? ''),
    { mode: 0o600 },
  );
}

function sftpEnv(ctx: StackContext, fingerprint: string): Record<string, string> {
  const p = paths(ctx);
  return {
    SFTP_HOST: '127.0.0.1',
    SFTP_PORT: String(ctx.settings.ports.sftp),
    SFTP_USER: user(ctx),
    SFTP_PRIVATE_KEY_PATH: p.clientKey,
    SFTP_HOST_KEY_SHA256: fingerprint,
    SFTP_REMOTE_DIR: p.remoteDir,
    // Where the local "Ministry" server keeps what it received (for the demo and tests).
    SFTP_LOCAL_INCOMING: p.incoming,
  };
}

/** Healthy means: the SSH banner, the pinned host key, key login, and the upload directory. */
async function healthy(ctx: StackContext): Promise<boolean> {
  const banner = await readBanner(ctx.settings.ports.sftp);
  if (!banner.startsWith('SSH-2.0-'))
    throw new Error(`unexpected banner ${JSON.stringify(banner.slice(0, 40))}`);
  const env = sftpEnv(ctx, hostKeyFingerprint(ctx));
  const client = await connectPinnedSftp({
    host: '127.0.0.1',
    port: ctx.settings.ports.sftp,
    user: user(ctx),
    privateKeyPath: paths(ctx).clientKey,
    hostKeySha256: env.SFTP_HOST_KEY_SHA256 ?? '',
    readyTimeoutMs: 3000,
  });
  try {
    return (await client.exists(paths(ctx).remoteDir)) === 'd';
  } finally {
    await client.end();
  }
}

export const sftp: StackServer = {
  name: NAME,
  requirements: () => [
    { command: '/usr/sbin/sshd', package: 'openssh-server' },
    { command: 'ssh-keygen', package: 'openssh-client' },
  ],

  async up(ctx) {
    const started = Date.now();
    const p = paths(ctx);
    const pid = readPid(p.pid);
    if (ownsProcess(pid, p.config)) {
      await waitUntil(NAME, 'an SFTP login', () => healthy(ctx), 30000);
      return {
        server: NAME,
        action: 'already-running',
        pid,
        port: ctx.settings.ports.sftp,
        ms: Date.now() - started,
      };
    }
    await ensureAccount(ctx);
    await ensureKeys(ctx);
    layout(ctx);
    const sshd = which('/usr/sbin/sshd') ?? 'sshd';
    await run(NAME, sshd, ['-t', '-f', p.config]);
    ctx.report(NAME, `starting sshd (internal-sftp) on 127.0.0.1:${ctx.settings.ports.sftp}`);
    // sshd daemonises itself and writes PidFile; -E sends its log to our file.
    await run(NAME, sshd, ['-f', p.config, '-E', p.log]);
    await waitUntil(NAME, 'an SFTP login', () => healthy(ctx), 30000);
    const newPid = readPid(p.pid) ?? 0;
    return {
      server: NAME,
      action: 'started',
      pid: newPid,
      port: ctx.settings.ports.sftp,
      ms: Date.now() - started,
    };
  },

  async down(ctx) {
    const p = paths(ctx);
    const pid = readPid(p.pid);
    if (!ownsProcess(pid, p.config)) return { server: NAME, action: 'not-running', pid: null };
    return { server: NAME, action: await stopPid(pid, 'SIGTERM', 10000), pid };
  },

  async status(ctx) {
    const p = paths(ctx);
    const pid = readPid(p.pid);
    const running = ownsProcess(pid, p.config);
    return probeStatus(
      NAME,
      ctx.settings.ports.sftp,
      pid,
      running,
      () => healthy(ctx),
      () => `key login ok, host key pinned, uploads in ${p.incoming}`,
    );
  },

  env: (ctx) => (existsSync(`${paths(ctx).hostKey}.pub`) ? sftpEnv(ctx, hostKeyFingerprint(ctx)) : {}),
};
