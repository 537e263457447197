import Table from 'cli-table3';
import type { ChaosCounts } from './soak-chaos';
import type { DayCounts, VersionFindings } from './soak-checks';
import type { FeedStats } from './soak-feed';
import type { LoggedErrors, UnexpectedExit } from './soak-process';
import type { ChaosServer } from './soak-settings';

/** What `npm run soak` found: the table's figures, and with `--json` this object itself. */
export type SoakReport = {
  ok: boolean;
  failures: string[];
  warnings: string[];
  day: string;
  seed: number;
  chaosSeed: number;
  tapsSimulated: number;
  minutes: { chaos: number; total: number };
  servers: ChaosServer[];
  chaos: ChaosCounts;
  /** The day's messages fed again during the chaos (a send in doubt: its answer was lost). */
  feed: FeedStats;
  unexpectedExits: UnexpectedExit[];
  /** Error-level lines the ingest and exporter services logged (alerts, failed jobs), by message. */
  serviceErrors: LoggedErrors;
  reference: { sha256: string; bytes: number; rows: number; ingestSeconds: number };
  final: {
    /** The last `boarding export run` after settling: DELIVERED or UNCHANGED. */
    outcome: string;
    version: number | null;
    file: string | null;
    sha256: string | null;
    bytes: number | null;
    bytesEqual: boolean;
  };
  versions: VersionFindings;
  reconcile: { messages: number; taps: number; unaccounted: number; doubled: number };
  counts: { reference: DayCounts; disturbed: DayCounts; differences: string[] };
  /** The exporter service brought the receiver to the reference bytes by itself after the chaos
   *  (null: the day is out of the exporter's schedule, only `export run` exported it). */
  exporterSettled: boolean | null;
  settleSeconds: number;
  receiver: { dir: string; partialsLeft: number; partialsMax: number; polls: number };
  logs: string;
};

const int = (n: number) => n.toLocaleString('en-US');

function restarts(r: SoakReport, server: ChaosServer): string {
  const n = r.chaos.restarts[server];
  const crashes = r.chaos.crashes[server];
  return crashes > 0 ? `${n} (${crashes} of them SIGKILL)` : String(n);
}

function versionRange(f: VersionFindings): string {
  if (f.ledgerVersions === 0) return '0';
  return `${f.delivered} delivered${f.inFlight ? `, ${f.inFlight} in flight` : ''} (v1–v${f.ledgerVersions})`;
}

export function soakRows(r: SoakReport): [string, string][] {
  const e = r.chaos.exportRuns;
  const v = r.versions;
  const rows: [string, string][] = [
    ['minutes of chaos', r.minutes.chaos.toFixed(1)],
    ['minutes in all', r.minutes.total.toFixed(1)],
    ['taps simulated', int(r.tapsSimulated)],
    [
      'taps stored (undisturbed / soak)',
      `${int(r.counts.reference.tapsStored)} / ${int(r.counts.disturbed.tapsStored)}`,
    ],
    [
      'messages fed during the chaos',
      `${int(r.feed.sent)} of ${int(r.feed.total)} (${r.feed.inDoubt} sends in doubt, ${r.feed.resent} sent again)`,
    ],
    ...r.servers.map((s): [string, string] => [`restarts ${s}`, restarts(r, s)]),
    [
      'uploads cut in their middle',
      `${r.chaos.cuts.postgres} by a PostgreSQL stop, ${r.chaos.cuts.sftp} by an SFTP stop, ${r.chaos.cuts.kill} by kill -9${r.chaos.cuts.missed ? ` (${r.chaos.cuts.missed} armed, no upload came)` : ''}`,
    ],
    ['kills -9 ingest', String(r.chaos.kills.ingest)],
    ['kills -9 exporter', String(r.chaos.kills.exporter)],
    ['kills -9 export run', String(r.chaos.kills['export-run'])],
    ['service exits nobody asked for', String(r.unexpectedExits.length)],
    ['error lines the services logged', String(r.serviceErrors.reduce((n, e) => n + e.count, 0))],
    [
      'export runs (cli)',
      `${e.started}: ${e.delivered} delivered, ${e.unchanged} unchanged, ${e.failed} failed, ${e.killed} killed${e.hung ? `, ${e.hung} HUNG` : ''}`,
    ],
    ['versions in the ledger', versionRange(v)],
    [
      'delivery tries',
      `${v.tries.delivered} delivered, ${v.tries.failed} failed, ${v.tries.unchanged} unchanged${v.tries.inFlight ? `, ${v.tries.inFlight} in flight` : ''}`,
    ],
    [
      'files at the receiver',
      `${v.filesAtReceiver}${r.receiver.partialsLeft ? ` (+ ${r.receiver.partialsLeft} upload temp files left)` : ''}`,
    ],
    [
      'latest at the receiver',
      v.latest
        ? `v${v.latest.version} ${v.latest.sha256.slice(0, 16)}… ${int(r.final.bytes ?? 0)} bytes`
        : 'none',
    ],
    [
      'undisturbed file',
      `${r.reference.sha256.slice(0, 16)}… ${int(r.reference.bytes)} bytes, ${int(r.reference.rows)} rows`,
    ],
    ['bytes equal', r.final.bytesEqual ? 'yes' : 'NO'],
    ['versions reused', String(v.reused.length)],
    ['version numbers missing', String(v.gaps.length)],
    ['receiver files not as in the ledger', String(v.unrecorded.length + v.differFromLedger.length)],
    ['manifests naming other bytes', String(v.manifestMismatches)],
    ['offsets unaccounted / doubled', `${r.reconcile.unaccounted} / ${r.reconcile.doubled}`],
    ['counts equal (taps, duplicates, dead letters, rows)', r.counts.differences.length === 0 ? 'yes' : 'NO'],
    [
      'exporter alone reached the same bytes',
      r.exporterSettled === null ? 'n/a (day outside its schedule)' : r.exporterSettled ? 'yes' : 'NO',
    ],
    ['result', r.ok ? 'PASS' : 'FAIL'],
  ];
  return rows;
}

export function renderSoak(r: SoakReport): string {
  const table = new Table({ head: ['figure', 'value'], style: { head: [], border: [], compact: true } });
  for (const row of soakRows(r)) table.push(row);
  const lines = [
    `soak of ${r.day} (${int(r.tapsSimulated)} taps, seed ${r.seed}; chaos seed ${r.chaosSeed}; servers ${r.servers.join(', ')})`,
    table.toString(),
  ];
  for (const f of r.failures) lines.push(`FAIL: ${f}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const x of r.unexpectedExits) {
    lines.push(`  ${x.service} exited by itself at ${x.at} (${x.signal ?? `exit ${x.code}`}): ${x.log}`);
    for (const t of x.tail) lines.push(`    ${t.slice(0, 300)}`);
  }
  if (r.serviceErrors.length > 0) lines.push('error lines the services logged (level ≥ 50), by message:');
  for (const e of r.serviceErrors)
    lines.push(`  ${String(e.count).padStart(4)} × ${e.service}: ${e.message}`);
  for (const reused of r.versions.reused) {
    lines.push(
      `  v${reused.version} held ${reused.sha256s.map((s) => s.slice(0, 16)).join(' then ')} (${reused.where})`,
    );
  }
  lines.push(`logs: ${r.logs}`);
  return lines.join('\n');
}
