import type { ReceiverSnapshot } from './soak-receiver';

/** A row of `export_versions` for day D (state: IN_FLIGHT / DELIVERED; DELIVERED before 0006). */
export type LedgerVersion = { version: number; sha256: string; state: string; fileName: string };

/** A row of `delivery_attempts` for day D. */
export type LedgerAttempt = {
  id: number;
  version: number;
  sha256: string;
  outcome: string;
  trigger: string;
  errorCode: string | null;
  error: string | null;
};

/** A version number that named two different contents, and where that was seen. */
export type ReusedVersion = { version: number; where: 'receiver' | 'ledger'; sha256s: string[] };

export type VersionFindings = {
  /** Versions of D in `export_versions`, by state. */
  ledgerVersions: number;
  delivered: number;
  inFlight: number;
  /** Versions left IN_FLIGHT (a try whose end was never recorded) and whether their file is at
   *  the receiver: such a number stays used whether or not its bytes arrived (SPEC §5). */
  inFlightVersions: { version: number; atReceiver: boolean }[];
  /** Numbers missing below the highest (versions must be 1, 2, … N). */
  gaps: number[];
  reused: ReusedVersion[];
  /** Files at the receiver whose version has no ledger row, or whose bytes differ from it. */
  unrecorded: string[];
  differFromLedger: { file: string; receiver: string; ledger: string }[];
  /** Upload tries of a version whose content differs from the version's row: a number given
   *  back after tries that failed (allowed only if no byte can have left: see the receiver). */
  renumberedAfterFailure: number;
  manifestMismatches: number;
  /** Highest version at the receiver, its file name and current sha256. */
  latest: { version: number; file: string; sha256: string } | null;
  filesAtReceiver: number;
  tries: { delivered: number; failed: number; inFlight: number; unchanged: number };
};

/**
 * SPEC §5: "a version number is never reused for other bytes". Judged three ways: a name at
 * the receiver that ever held two contents; ledger tries that may have reached the receiver
 * (DELIVERED, IN_FLIGHT) of one version with different sha256s; and the receiver's files
 * against the ledger's rows (every file recorded, same bytes). Versions must be contiguous.
 */
export function checkVersions(input: {
  versions: LedgerVersion[];
  attempts: LedgerAttempt[];
  receiver: ReceiverSnapshot;
}): VersionFindings {
  const { versions, attempts, receiver } = input;
  const byVersion = new Map(versions.map((v) => [v.version, v]));
  const max = versions.reduce((m, v) => Math.max(m, v.version), 0);
  const gaps: number[] = [];
  for (let n = 1; n <= max; n++) if (!byVersion.has(n)) gaps.push(n);

  const reused: ReusedVersion[] = [];
  for (const [, f] of Object.entries(receiver.files)) {
    const shas = [...new Set(f.contents.map((c) => c.sha256))];
    if (shas.length > 1) reused.push({ version: f.version, where: 'receiver', sha256s: shas });
  }
  const reached = new Map<number, Set<string>>();
  let renumberedAfterFailure = 0;
  for (const a of attempts) {
    if (a.outcome === 'UNCHANGED') continue;
    const row = byVersion.get(a.version);
    if (a.outcome === 'FAILED') {
      if (row && row.sha256 !== a.sha256) renumberedAfterFailure++;
      continue;
    }
    const set = reached.get(a.version) ?? new Set<string>();
    set.add(a.sha256);
    if (row) set.add(row.sha256);
    reached.set(a.version, set);
  }
  for (const [version, set] of reached) {
    if (set.size > 1 && !reused.some((r) => r.version === version)) {
      reused.push({ version, where: 'ledger', sha256s: [...set] });
    }
  }

  const unrecorded: string[] = [];
  const differFromLedger: VersionFindings['differFromLedger'] = [];
  let latest: VersionFindings['latest'] = null;
  for (const [file, f] of Object.entries(receiver.files)) {
    const current = f.contents.at(-1)?.sha256 ?? '';
    const row = byVersion.get(f.version);
    if (!row) unrecorded.push(file);
    else if (row.sha256 !== current) differFromLedger.push({ file, receiver: current, ledger: row.sha256 });
    if (!latest || f.version > latest.version) latest = { version: f.version, file, sha256: current };
  }
  const count = (outcome: string) => attempts.filter((a) => a.outcome === outcome).length;
  return {
    ledgerVersions: versions.length,
    delivered: versions.filter((v) => v.state === 'DELIVERED').length,
    inFlight: versions.filter((v) => v.state === 'IN_FLIGHT').length,
    inFlightVersions: versions
      .filter((v) => v.state === 'IN_FLIGHT')
      .map((v) => ({
        version: v.version,
        atReceiver: Object.values(receiver.files).some((f) => f.version === v.version),
      })),
    gaps,
    reused: reused.sort((a, b) => a.version - b.version),
    unrecorded: unrecorded.sort(),
    differFromLedger,
    renumberedAfterFailure,
    manifestMismatches: receiver.manifestMismatches.length,
    latest,
    filesAtReceiver: Object.keys(receiver.files).length,
    tries: {
      delivered: count('DELIVERED'),
      failed: count('FAILED'),
      inFlight: count('IN_FLIGHT'),
      unchanged: count('UNCHANGED'),
    },
  };
}

/** Counts that must be the same after the chaos as in the undisturbed run. */
export type DayCounts = {
  tapsStored: number;
  duplicates: number;
  deadLettered: Record<string, number>;
  rows: number;
};

export function countDifferences(reference: DayCounts, disturbed: DayCounts): string[] {
  const out: string[] = [];
  for (const key of ['tapsStored', 'duplicates', 'rows'] as const) {
    if (reference[key] !== disturbed[key]) out.push(`${key} ${reference[key]} → ${disturbed[key]}`);
  }
  const reasons = new Set([...Object.keys(reference.deadLettered), ...Object.keys(disturbed.deadLettered)]);
  for (const reason of [...reasons].sort()) {
    const a = reference.deadLettered[reason] ?? 0;
    const b = disturbed.deadLettered[reason] ?? 0;
    if (a !== b) out.push(`dead letters ${reason} ${a} → ${b}`);
  }
  return out;
}

/**
 * failures: what the soak promises (issue 12: the same bytes as the undisturbed run, no version
 * reused, every offset accounted for) and did not hold; exit 0 only without them. warnings:
 * what an operator should read although the promise held (a service that exited by itself,
 * an exporter that did not pick the day up again once the chaos ended).
 */
export type Verdict = { ok: boolean; failures: string[]; warnings: string[] };

export function verdict(input: {
  bytesEqual: boolean;
  findings: VersionFindings;
  unaccounted: number;
  doubled: number;
  countDifferences: string[];
  exporterSettled: boolean | null;
  unexpectedExits: number;
}): Verdict {
  const f = input.findings;
  const failures: string[] = [];
  if (!input.bytesEqual) failures.push('the latest delivered file differs from the undisturbed run');
  if (f.reused.length > 0) {
    failures.push(
      `version(s) reused for other bytes: ${f.reused.map((r) => `v${r.version} (${r.where})`).join(', ')}`,
    );
  }
  if (f.gaps.length > 0) failures.push(`version numbers missing: ${f.gaps.map((v) => `v${v}`).join(', ')}`);
  if (f.unrecorded.length > 0)
    failures.push(`files at the receiver with no ledger row: ${f.unrecorded.join(', ')}`);
  if (f.differFromLedger.length > 0) {
    failures.push(
      `files at the receiver whose bytes differ from the ledger: ${f.differFromLedger.map((d) => d.file).join(', ')}`,
    );
  }
  if (f.manifestMismatches > 0)
    failures.push(`${f.manifestMismatches} manifest(s) naming other bytes than their file`);
  if (input.unaccounted > 0 || input.doubled > 0) {
    failures.push(`ingest reconcile: ${input.unaccounted} offsets unaccounted, ${input.doubled} doubled`);
  }
  if (input.countDifferences.length > 0) {
    failures.push(`the day's counts differ from the undisturbed run: ${input.countDifferences.join('; ')}`);
  }
  const warnings: string[] = [];
  if (input.exporterSettled === false) {
    warnings.push('the exporter service did not export the day after the chaos stopped');
  }
  if (input.unexpectedExits > 0) warnings.push(`${input.unexpectedExits} service exit(s) nobody asked for`);
  if (f.inFlightVersions.length > 0) {
    const list = f.inFlightVersions.map(
      (v) => `v${v.version} (${v.atReceiver ? 'at the receiver' : 'not at the receiver'})`,
    );
    warnings.push(`left IN_FLIGHT in the ledger (never marked delivered or failed): ${list.join(', ')}`);
  }
  return { ok: failures.length === 0, failures, warnings };
}
