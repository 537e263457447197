import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { loadEnv, SftpEnv } from '@boarding/config/env';
import { z } from 'zod';

// The local stack's settings (.local/stack.env); @boarding/testing depends on this package.
const testEnv = () => loadEnv(SftpEnv.extend({ SFTP_LOCAL_INCOMING: z.string().min(1) }));

import { withTimeout } from '@boarding/lifecycle/time-limit';
import { connectPinnedSftp, HostKeyMismatchError, type SftpSettings, sftpSettingsFromEnv } from './connect';

function settings(overrides: Partial<SftpSettings> = {}): SftpSettings {
  const { remoteDir: _remoteDir, ...connection } = sftpSettingsFromEnv(testEnv());
  return { ...connection, ...overrides };
}

describe('SFTP to the local Ministry server', () => {
  it('uploads under a temporary name, renames into place and reads back the same bytes', async () => {
    const env = testEnv();
    const name = `smoke-${randomUUID()}.csv`;
    const body = Buffer.from('a,b\r\n1,2\r\n');
    const client = await connectPinnedSftp(settings());
    try {
      const tmp = `${env.SFTP_REMOTE_DIR}/.${name}.part`;
      await client.put(body, tmp);
      expect(existsSync(join(env.SFTP_LOCAL_INCOMING, name))).toBe(false);
      await client.rename(tmp, `${env.SFTP_REMOTE_DIR}/${name}`);
      const back = (await client.get(`${env.SFTP_REMOTE_DIR}/${name}`)) as Buffer;
      expect(back.equals(body)).toBe(true);
      expect(readFileSync(join(env.SFTP_LOCAL_INCOMING, name)).equals(body)).toBe(true);
      await client.delete(`${env.SFTP_REMOTE_DIR}/${name}`);
    } finally {
      await client.end();
    }
  });

  it('refuses a server whose host key is not the pinned one, before any file is sent', async () => {
    const env = testEnv();
    const before = readdirSync(env.SFTP_LOCAL_INCOMING);
    const wrongPin = `SHA256:${'A'.repeat(43)}`;
    const attempt = connectPinnedSftp(settings({ hostKeySha256: wrongPin })).then(async (client) => {
      // Reaching here means the pin was not enforced: send a file so the assertion below sees it.
      await client.put(Buffer.from('leak'), `${env.SFTP_REMOTE_DIR}/should-not-exist.csv`);
      await client.end();
    });
    await expect(attempt).rejects.toBeInstanceOf(HostKeyMismatchError);
    await expect(attempt).rejects.toThrow(`pinned ${wrongPin}`);
    expect(readdirSync(env.SFTP_LOCAL_INCOMING)).toEqual(before);
  });

  it('refuses a client key the server does not know', async () => {
    const env = testEnv();
    const wrongKey = join(env.SFTP_PRIVATE_KEY_PATH, '..', 'ssh_host_ed25519_key');
    await expect(connectPinnedSftp(settings({ privateKeyPath: wrongKey }))).rejects.toThrow(
      /authentication/i,
    );
  });
});

/**
 * A relay to the real sshd that can fall silent: forwarding stops both ways, a FIN is not
 * answered, the sockets stay open (a hung server, or packets lost on the way). A self-contained
 * cousin of @boarding/testing's TcpProxy, which this package cannot import (testing depends on it).
 */
async function silentRelay(target: { host: string; port: number }, silentFromStart = false) {
  const open = new Set<Socket>();
  let silent = silentFromStart;
  let accepted = 0;
  let clientGone: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => {
    clientGone = resolve;
  });
  const server = createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    open.add(client);
    const upstream = silent ? undefined : connect({ ...target, allowHalfOpen: true });
    if (upstream) open.add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (!silent) upstream?.write(chunk);
    });
    upstream?.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk);
    });
    upstream?.on('error', () => undefined);
    client.on('error', () => undefined);
    // FIN or reset from the client: it let go of the connection.
    client.on('end', clientGone);
    client.on('close', clientGone);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    port: address.port,
    accepted: () => accepted,
    silence: () => {
      silent = true;
    },
    /** Whether the client closed its connection within a generous bound (never a measurement). */
    clientClosed: () =>
      settleWithin(10_000, gone).then(
        () => true,
        () => false,
      ),
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `work`, or a clear failure if it is still pending after `ms` (a bound, not a measurement). */
const settleWithin = <T>(ms: number, work: Promise<T>): Promise<T> =>
  withTimeout(ms, work, () => new Error(`still pending after ${ms} ms`));

describe('SFTP connection limits: a server that stops answering never holds a caller forever', () => {
  it('gives up on a server that accepts the connection but never answers: SFTP_TIMEOUT naming connect, connection closed', async () => {
    const base = settings();
    const relay = await silentRelay(base, true);
    try {
      const attempt = connectPinnedSftp({ ...base, port: relay.port, readyTimeoutMs: 500 });
      await expect(settleWithin(20_000, attempt)).rejects.toMatchObject({
        code: 'SFTP_TIMEOUT',
        operation: 'connect',
        retryable: true,
      });
      expect(relay.accepted()).toBe(1);
      expect(await relay.clientClosed()).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('notices by keepalive an open connection whose server fell silent, and closes it', async () => {
    const base = settings();
    const relay = await silentRelay(base);
    try {
      const client = await connectPinnedSftp({
        ...base,
        port: relay.port,
        keepaliveIntervalMs: 200,
        keepaliveCountMax: 2,
      });
      relay.silence();
      // Nothing answers now: only the keepalive can tell the connection is dead.
      await expect(settleWithin(20_000, client.list(testEnv().SFTP_REMOTE_DIR))).rejects.toThrow(
        /Keepalive timeout/,
      );
      expect(await relay.clientClosed()).toBe(true);
      await settleWithin(5_000, client.end());
    } finally {
      await relay.close();
    }
  });

  it('stops a connect in progress when its signal aborts: rejects with the reason, connection closed', async () => {
    const base = settings();
    const relay = await silentRelay(base, true);
    try {
      const controller = new AbortController();
      const attempt = connectPinnedSftp({ ...base, port: relay.port }, { signal: controller.signal });
      for (let i = 0; i < 100 && relay.accepted() === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const reason = new Error('shutting down');
      controller.abort(reason);
      await expect(settleWithin(20_000, attempt)).rejects.toBe(reason);
      expect(await relay.clientClosed()).toBe(true);
    } finally {
      await relay.close();
    }
  });
});
