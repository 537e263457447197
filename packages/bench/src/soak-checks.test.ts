import {
  checkVersions,
  countDifferences,
  type LedgerAttempt,
  type LedgerVersion,
  verdict,
} from './soak-checks';
import type { ReceiverSnapshot } from './soak-receiver';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function receiver(files: Record<string, { version: number; shas: string[] }>): ReceiverSnapshot {
  return {
    files: Object.fromEntries(
      Object.entries(files).map(([name, f]) => [
        name,
        {
          version: f.version,
          contents: f.shas.map((sha256) => ({ sha256, bytes: 10, at: '2026-12-06T00:00:00Z' })),
        },
      ]),
    ),
    manifests: {},
    manifestMismatches: [],
    partialsNow: 0,
    partialsMax: 0,
    polls: 1,
  };
}

const version = (v: number, sha256: string, state = 'DELIVERED'): LedgerVersion => ({
  version: v,
  sha256,
  state,
  fileName: `BINIS_ESHOT_20261205_v${v}.csv`,
});
let id = 0;
const attempt = (v: number, sha256: string, outcome: string): LedgerAttempt => ({
  id: ++id,
  version: v,
  sha256,
  outcome,
  trigger: 'cli',
  errorCode: null,
  error: null,
});

const passing = {
  bytesEqual: true,
  unaccounted: 0,
  doubled: 0,
  countDifferences: [],
  exporterSettled: true,
  unexpectedExits: 0,
};

describe('checkVersions', () => {
  it('passes contiguous versions whose receiver files match the ledger', () => {
    const f = checkVersions({
      versions: [version(1, A), version(2, B)],
      attempts: [attempt(1, A, 'DELIVERED'), attempt(2, B, 'DELIVERED'), attempt(2, B, 'UNCHANGED')],
      receiver: receiver({
        'BINIS_ESHOT_20261205_v1.csv': { version: 1, shas: [A] },
        'BINIS_ESHOT_20261205_v2.csv': { version: 2, shas: [B] },
      }),
    });
    expect(f.reused).toEqual([]);
    expect(f.gaps).toEqual([]);
    expect(f.latest).toEqual({ version: 2, file: 'BINIS_ESHOT_20261205_v2.csv', sha256: B });
    expect(verdict({ ...passing, findings: f }).ok).toBe(true);
  });

  it('finds a version reused at the receiver even when the ledger never saw the first upload', () => {
    // v2 reached the server with A, its ledger write was lost; the next run sent B as v2 again.
    const f = checkVersions({
      versions: [version(1, C), version(2, B)],
      attempts: [attempt(1, C, 'DELIVERED'), attempt(2, B, 'DELIVERED')],
      receiver: receiver({
        'BINIS_ESHOT_20261205_v1.csv': { version: 1, shas: [C] },
        'BINIS_ESHOT_20261205_v2.csv': { version: 2, shas: [A, B] },
      }),
    });
    expect(f.reused).toEqual([{ version: 2, where: 'receiver', sha256s: [A, B] }]);
    const v = verdict({ ...passing, findings: f });
    expect(v.ok).toBe(false);
    expect(v.failures.join('\n')).toMatch(/v2 \(receiver\)/);
  });

  it('finds a version the ledger tried with two contents that may both have left', () => {
    const f = checkVersions({
      versions: [version(1, B)],
      attempts: [attempt(1, A, 'IN_FLIGHT'), attempt(1, B, 'DELIVERED')],
      receiver: receiver({ 'BINIS_ESHOT_20261205_v1.csv': { version: 1, shas: [B] } }),
    });
    expect(f.reused).toEqual([{ version: 1, where: 'ledger', sha256s: [A, B] }]);
  });

  it('counts a number given back after failed tries apart from a reuse', () => {
    const f = checkVersions({
      versions: [version(1, B)],
      attempts: [attempt(1, A, 'FAILED'), attempt(1, B, 'DELIVERED')],
      receiver: receiver({ 'BINIS_ESHOT_20261205_v1.csv': { version: 1, shas: [B] } }),
    });
    expect(f.reused).toEqual([]);
    expect(f.renumberedAfterFailure).toBe(1);
  });

  it('reports missing numbers, unrecorded files and files whose bytes differ from the ledger', () => {
    const f = checkVersions({
      versions: [version(1, A), version(3, B, 'IN_FLIGHT')],
      attempts: [],
      receiver: receiver({
        'BINIS_ESHOT_20261205_v1.csv': { version: 1, shas: [C] },
        'BINIS_ESHOT_20261205_v4.csv': { version: 4, shas: [B] },
      }),
    });
    expect(f.gaps).toEqual([2]);
    expect(f.unrecorded).toEqual(['BINIS_ESHOT_20261205_v4.csv']);
    expect(f.differFromLedger).toEqual([{ file: 'BINIS_ESHOT_20261205_v1.csv', receiver: C, ledger: A }]);
    expect(f.inFlightVersions).toEqual([{ version: 3, atReceiver: false }]);
    const v = verdict({ ...passing, findings: f });
    expect(v.failures).toHaveLength(3);
    expect(v.warnings.join('\n')).toMatch(/v3 \(not at the receiver\)/);
  });
});

describe('countDifferences and verdict', () => {
  it('names every count that moved, dead letters by reason', () => {
    const a = { tapsStored: 10, duplicates: 2, deadLettered: { SEQ_CONFLICT: 1 }, rows: 5 };
    const b = { tapsStored: 9, duplicates: 2, deadLettered: { SEQ_CONFLICT: 1, STORE_REJECTED: 1 }, rows: 5 };
    expect(countDifferences(a, a)).toEqual([]);
    expect(countDifferences(a, b)).toEqual(['tapsStored 10 → 9', 'dead letters STORE_REJECTED 0 → 1']);
  });

  it('fails on other bytes or unaccounted offsets, only warns on a service that exited by itself', () => {
    const findings = checkVersions({ versions: [], attempts: [], receiver: receiver({}) });
    const v = verdict({ ...passing, findings, bytesEqual: false, unaccounted: 3, unexpectedExits: 1 });
    expect(v.ok).toBe(false);
    expect(v.failures).toEqual([
      'the latest delivered file differs from the undisturbed run',
      'ingest reconcile: 3 offsets unaccounted, 0 doubled',
    ]);
    expect(v.warnings).toEqual(['1 service exit(s) nobody asked for']);
  });
});
