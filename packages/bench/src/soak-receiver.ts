import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.csv[.gz]` and its `.manifest.json` (SPEC §4). */
const DELIVERED_NAME = /^BINIS_(.+)_(\d{8})_v(\d+)(\.csv(?:\.gz)?|\.manifest\.json)$/;
/** The temporary names uploads go to before the rename (delivery's `partialName`). */
const PARTIAL_NAME = /^\.BINIS_.*\.part$/;

export type DeliveredName = { operator: string; day: string; version: number; kind: 'file' | 'manifest' };

export function parseDeliveredName(name: string): DeliveredName | undefined {
  const m = DELIVERED_NAME.exec(name);
  if (!m) return undefined;
  const [, operator = '', compact = '', version = '0', suffix = ''] = m;
  return {
    operator,
    day: `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}`,
    version: Number(version),
    kind: suffix === '.manifest.json' ? 'manifest' : 'file',
  };
}

/** One content a name had at the receiver, first seen at `at`. */
export type Observation = { sha256: string; bytes: number; at: string };

/** A manifest that named other bytes than the file beside it, when it was seen. */
export type ManifestMismatch = {
  manifest: string;
  file: string;
  manifestSha256: string;
  fileSha256: string;
  at: string;
};

export type ReceiverSnapshot = {
  /** Day D's files by name: every content each name held, oldest first. */
  files: Record<string, { version: number; contents: Observation[] }>;
  manifests: Record<string, { version: number; contents: Observation[]; sha256Named: string | null }>;
  manifestMismatches: ManifestMismatch[];
  /** Upload temp files seen at the last look, and the most seen at once. */
  partialsNow: number;
  partialsMax: number;
  polls: number;
};

type Seen = { key: string; sha256: string; sha256Named: string | null };

/**
 * Watches the receiver's directory (the soak SFTP server's disk) for day D, as the Ministry
 * would see it: every content each `BINIS_…_vN` name ever held. A name holding two contents
 * over the run is a version reused for other bytes, even if the ledger never learnt of the
 * first upload (the upload reached the server, the ledger write did not).
 */
export class ReceiverWatch {
  private readonly seen = new Map<string, Seen>();
  private readonly snapshot: ReceiverSnapshot = {
    files: {},
    manifests: {},
    manifestMismatches: [],
    partialsNow: 0,
    partialsMax: 0,
    polls: 0,
  };
  private readonly mismatchKeys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly day: string,
  ) {}

  start(intervalMs = 1000): void {
    const tick = () => {
      this.polling = this.poll()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One look at the directory; a file whose identity (inode, size, mtime) changed is hashed. */
  async poll(): Promise<void> {
    const names = await readdir(this.dir);
    const partials = names.filter((n) => PARTIAL_NAME.test(n)).length;
    this.snapshot.partialsNow = partials;
    this.snapshot.partialsMax = Math.max(this.snapshot.partialsMax, partials);
    this.snapshot.polls++;
    for (const name of names) {
      const parsed = parseDeliveredName(name);
      if (!parsed || parsed.day !== this.day) continue;
      const path = join(this.dir, name);
      let st: Awaited<ReturnType<typeof stat>>;
      let body: Buffer;
      try {
        st = await stat(path);
        const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
        if (this.seen.get(name)?.key === key) continue;
        body = await readFile(path);
        this.record(name, parsed, key, body);
      } catch {
        // Renamed over or removed between readdir and read: the next look sees what replaced it.
      }
    }
    this.compareManifests();
  }

  private record(name: string, parsed: DeliveredName, key: string, body: Buffer): void {
    const sha256 = createHash('sha256').update(body).digest('hex');
    let sha256Named: string | null = null;
    if (parsed.kind === 'manifest') {
      try {
        const value: unknown = JSON.parse(body.toString('utf8'));
        const named = (value as { sha256?: unknown }).sha256;
        sha256Named = typeof named === 'string' ? named : null;
      } catch {
        sha256Named = null;
      }
    }
    this.seen.set(name, { key, sha256, sha256Named });
    const observation: Observation = { sha256, bytes: body.length, at: new Date().toISOString() };
    let bucket: { contents: Observation[] };
    if (parsed.kind === 'file') {
      const file = this.snapshot.files[name] ?? { version: parsed.version, contents: [] };
      this.snapshot.files[name] = file;
      bucket = file;
    } else {
      const manifest = this.snapshot.manifests[name] ?? {
        version: parsed.version,
        contents: [],
        sha256Named,
      };
      manifest.sha256Named = sha256Named;
      this.snapshot.manifests[name] = manifest;
      bucket = manifest;
    }
    if (bucket.contents.at(-1)?.sha256 !== sha256) bucket.contents.push(observation);
  }

  /** A manifest names the sha256 of the file beside it; at any moment they must agree. */
  private compareManifests(): void {
    for (const [manifest, m] of Object.entries(this.snapshot.manifests)) {
      const file = Object.keys(this.snapshot.files).find(
        (f) =>
          this.snapshot.files[f]?.version === m.version &&
          manifest.startsWith(f.replace(/\.csv(\.gz)?$/, '')),
      );
      const fileSeen = file === undefined ? undefined : this.seen.get(file);
      if (file === undefined || !fileSeen || m.sha256Named === null) continue;
      if (fileSeen.sha256 === m.sha256Named) continue;
      const key = `${manifest}:${m.sha256Named}:${fileSeen.sha256}`;
      if (this.mismatchKeys.has(key)) continue;
      this.mismatchKeys.add(key);
      this.snapshot.manifestMismatches.push({
        manifest,
        file,
        manifestSha256: m.sha256Named,
        fileSha256: fileSeen.sha256,
        at: new Date().toISOString(),
      });
    }
  }

  result(): ReceiverSnapshot {
    return structuredClone(this.snapshot);
  }
}

/**
 * Tells the chaos the moment an upload of a day file starts at the receiver (its temporary
 * `.BINIS_…part` name appears), so a fault can land inside the few hundred milliseconds between
 * the first byte and the ledger write: the window SPEC §5's version rule is about. inotify
 * (fs.watch) on the receiver's directory: a poll would miss most uploads.
 */
export class UploadSpy {
  private watcher: FSWatcher | undefined;
  private waiters: ((name: string) => void)[] = [];

  constructor(readonly dir: string) {}

  start(): void {
    this.watcher = watch(this.dir, (_event, name) => {
      // The day file's upload, not its manifest's (which comes after the file is in place).
      if (typeof name !== 'string' || !PARTIAL_NAME.test(name) || !name.includes('.csv')) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(name);
    });
    this.watcher.on('error', () => undefined);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The temporary name of the next day-file upload to start, or undefined after `timeoutMs`. */
  next(timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (name: string | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== onUpload);
        resolve(name);
      };
      const onUpload = (name: string) => finish(name);
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.waiters.push(onUpload);
    });
  }
}
