import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { SftpEnv } from '@boarding/config/env';
import {
  closeSftp,
  closeSftpNow,
  connectPinnedSftp,
  SFTP_DEFAULTS,
  type SftpSettings,
  SftpTimeoutError,
  sftpSettingsFromEnv,
} from '@boarding/sftp/connect';
import type SftpClient from 'ssh2-sftp-client';
import {
  type DeliverOptions,
  type DeliveryFile,
  type DeliveryTransport,
  isSweepable,
  operatorPartialPrefix,
  PARTIAL_GRACE_MS,
  partialName,
  SizeMismatchError,
} from './transport';

// Parallel writes of 128 KiB, 32 in flight: measured 15–20 % faster than fastPut's defaults on
// OpenSSH (see the bench's sftp-upload bound, which uses the same settings).
// Mode 0600: the file holds TC and HES in clear; the receiver's other users have no business reading it.
const TRANSFER = { chunkSize: 128 * 1024, concurrency: 32, mode: 0o600 };

/**
 * The real transport: the receiver's SFTP server, key authentication, host key pinned.
 *
 * Time limits (`operationTimeoutMs`, default 30 s): list, stat, posixRename and delete must be
 * answered within the limit; an upload (fastPut) must make progress — a write acknowledged by
 * the server — at least once per limit, however long it takes in all. A day file's size and the
 * link's speed vary too much for a total limit that is neither too short for a slow but healthy
 * upload nor hours long for a hung one; a stall is what must end a try, and "no progress" is one.
 */
export function createSftpTransport(
  settings: SftpSettings & { remoteDir: string; partialGraceMs?: number },
): DeliveryTransport {
  const dir = settings.remoteDir.replace(/\/+$/, '') || '/';
  const limitMs = settings.operationTimeoutMs ?? SFTP_DEFAULTS.operationTimeoutMs;
  // Temporary names this transport left behind (cut mid-upload): its own, so removed next time.
  const leftovers = new Set<string>();
  return {
    target: `sftp://${settings.user}@${settings.host}:${settings.port}${dir}`,
    async deliver(files: DeliveryFile[], options: DeliverOptions = {}) {
      const { signal } = options;
      const client = await connectPinnedSftp(settings, { signal });
      const session = new LimitedSession(client, limitMs);
      const onAbort = () => session.stop(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      try {
        await removeStalePartials(session, dir, {
          ownLeftovers: leftovers,
          operatorPrefix: operatorPartialPrefix(files),
          graceMs: settings.partialGraceMs ?? PARTIAL_GRACE_MS,
        });
        for (const file of files) await putAtomically(session, dir, file, leftovers);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (session.stopped) closeSftpNow(client);
        else await closeSftp(client);
      }
    },
  };
}

/** The transport the SFTP_* settings describe (SftpEnv, parsed by the caller). */
export function sftpTransportFromEnv(env: SftpEnv): DeliveryTransport {
  return createSftpTransport(sftpSettingsFromEnv(env));
}

/**
 * One connection's operations, each under the limit. An operation that overruns, or an abort,
 * stops the whole connection (the socket is destroyed): the step is really over, not left
 * running on the server beside the next try, and every later step fails at once with the same
 * error.
 */
class LimitedSession {
  private failure: { reason: unknown } | undefined;
  private readonly running = new Set<(reason: unknown) => void>();
  /** The step running now, to name it when the connection's keepalive gives up. */
  private current: { operation: string; subject: string } | undefined;

  constructor(
    readonly client: SftpClient,
    private readonly limitMs: number,
  ) {
    // ssh2 drops a connection whose keepalives go unanswered (@boarding/sftp/connect): the same
    // typed error as a step's own limit, naming the step it cut. Runs before the running step's
    // own listener, so this, not its untyped error, is what the step fails with.
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level !== 'client-timeout' || this.current === undefined) return;
      const { operation, subject } = this.current;
      this.stop(new SftpTimeoutError(operation, `${subject}: the server stopped answering keepalives`));
    });
  }

  get stopped(): boolean {
    return this.failure !== undefined;
  }

  /** Close the connection at once; what runs on it, and all that follows, fails with `reason`. */
  stop(reason: unknown): void {
    this.failure ??= { reason };
    closeSftpNow(this.client);
    for (const fail of this.running) fail(this.failure.reason);
  }

  /**
   * `work` under the limit: it must settle, or call `progress()`, within `limitMs` of starting
   * or of its last progress.
   */
  async run<T>(
    operation: string,
    subject: string,
    work: (client: SftpClient, progress: () => void) => Promise<T>,
  ): Promise<T> {
    if (this.failure) throw this.failure.reason;
    let fail: (reason: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    let timer: NodeJS.Timeout | undefined;
    let progressed = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const what = progressed ? 'no further progress' : 'no answer';
        this.stop(new SftpTimeoutError(operation, `${subject}: ${what} for ${this.limitMs} ms`));
      }, this.limitMs);
    };
    const progress = () => {
      progressed = true;
      arm();
    };
    this.running.add(fail);
    this.current = { operation, subject };
    arm();
    try {
      const attempt = work(this.client, progress);
      // Settled after a stop too (the closed connection fails it): never an unhandled rejection.
      attempt.catch(() => undefined);
      return await Promise.race([attempt, failed]);
    } finally {
      clearTimeout(timer);
      this.running.delete(fail);
      this.current = undefined;
    }
  }
}

async function putAtomically(
  session: LimitedSession,
  dir: string,
  file: DeliveryFile,
  leftovers: Set<string>,
): Promise<void> {
  const { size } = await stat(file.localPath);
  const tempName = partialName(file.name, randomBytes(4).toString('hex'));
  const temp = posix.join(dir, tempName);
  const final = posix.join(dir, file.name);
  try {
    await session.run('fastPut', file.name, (client, progress) =>
      client.fastPut(file.localPath, temp, { ...TRANSFER, step: progress }),
    );
    const remote = await session.run('stat', tempName, (client) => client.stat(temp));
    if (remote.size !== size) throw new SizeMismatchError(file.name, size, remote.size);
    // posix-rename@openssh.com replaces an existing final name atomically (plain SFTP rename
    // refuses to), which a --force re-delivery needs.
    await session.run('posixRename', tempName, (client) => client.posixRename(temp, final));
  } catch (err) {
    // Best effort: a cut or stopped connection cannot delete; the next delivery sweeps the leftover.
    const deleted = await session
      .run('delete', tempName, (client) => client.delete(temp, true))
      .then(
        () => true,
        () => false,
      );
    if (!deleted) leftovers.add(tempName);
    throw err;
  }
}

/** Temporary files that are this transport's leftovers, or this operator's and older than the grace. */
async function removeStalePartials(
  session: LimitedSession,
  dir: string,
  rule: { ownLeftovers: Set<string>; operatorPrefix: string | null; graceMs: number },
): Promise<void> {
  const nowMs = Date.now();
  const entries = await session.run('list', dir, (client) =>
    client.list(
      dir,
      (e) =>
        e.type === '-' &&
        isSweepable(e.name, {
          ...rule,
          modifiedMs: typeof e.modifyTime === 'number' ? e.modifyTime : null,
          nowMs,
        }),
    ),
  );
  for (const e of entries) {
    await session
      .run('delete', e.name, (client) => client.delete(posix.join(dir, e.name), true))
      .then(
        () => rule.ownLeftovers.delete(e.name),
        () => undefined,
      );
  }
}
