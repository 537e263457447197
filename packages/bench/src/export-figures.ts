import type { FigureInput, Rate } from './harness';
import { lastJsonLine, numberField } from './ts-child';

/** What `export-child.ts` prints: one export of a day, timed inside the process that ran it. */
export type ExportChildResult = {
  outcome: string;
  rows: number;
  /** The delivered file's size. */
  bytes: number;
  /** From the call of `exportDay` to the transport's `deliver`: query, decryption, CSV, file, manifest. */
  buildSeconds: number;
  /** The transport's `deliver`: connect, file and manifest under temporary names, size checks, renames. */
  deliverSeconds: number;
  /** The whole `exportDay` call (build, delivery and the ledger rows). */
  totalSeconds: number;
  /** The process's peak resident set (getrusage), KiB. */
  maxRssKiB: number;
  /** The peak RSS when delivery started: the build's own. */
  buildMaxRssKiB: number;
  /** Sampled every 100 ms, for the progress line: V8's heap, and buffers outside it. */
  peakHeapMiB: number;
  peakExternalMiB: number;
};

/** The export child's result, checked field by field: a wrong figure is worse than none. */
export function parseExportChildResult(stdout: string): ExportChildResult {
  const who = 'export child';
  const r = lastJsonLine(stdout, who);
  if (typeof r.outcome !== 'string') throw new Error(`${who} result has no outcome`);
  const n = (key: string) => numberField(r, key, who);
  return {
    outcome: r.outcome,
    rows: n('rows'),
    bytes: n('bytes'),
    buildSeconds: n('buildSeconds'),
    deliverSeconds: n('deliverSeconds'),
    totalSeconds: n('totalSeconds'),
    maxRssKiB: n('maxRssKiB'),
    buildMaxRssKiB: n('buildMaxRssKiB'),
    peakHeapMiB: n('peakHeapMiB'),
    peakExternalMiB: n('peakExternalMiB'),
  };
}

/** One point of the memory curve: the same export of a day of about `label` rows. */
export type CurvePoint = { label: string; result: ExportChildResult };

/**
 * The export's figures against its same-run bounds. The two stages are bounded separately
 * (`build` by COPY of the same query, `deliver` by a raw upload of a file of the same size);
 * the whole is bounded by the slower of the two in rows/s, since a pipeline cannot beat its
 * slowest stage. `peak-rss` is bounded by the peak RSS of the same export of the curve's
 * smallest day (~10 k rows): its ratio (small / large) is 1 when memory is flat in the size of
 * the day. The curve's points (rows, time, peak RSS of each) follow, smallest first.
 */
export function exportFigures(input: {
  large: ExportChildResult;
  curve: CurvePoint[];
  copyOut: Rate;
  /** A raw SFTP upload of `large.bytes` bytes. */
  upload: Rate;
}): FigureInput[] {
  const { large, curve, copyOut, upload } = input;
  const small = curve[0]?.result;
  if (small === undefined) throw new RangeError('the memory curve has no point');
  if (upload.amount !== large.bytes) {
    throw new RangeError(
      `the upload bound moved ${upload.amount} bytes, the export delivered ${large.bytes}`,
    );
  }
  if (upload.unit !== 'MB/s' || copyOut.unit !== 'rows/s') {
    throw new RangeError(`bounds in ${upload.unit} and ${copyOut.unit}, expected MB/s and rows/s`);
  }
  if (copyOut.amount !== large.rows) {
    throw new RangeError(`COPY of the day query gave ${copyOut.amount} rows, the export wrote ${large.rows}`);
  }
  const uploadRows = large.rows / upload.seconds;
  const mib = (kib: number) => kib / 1024;
  return [
    {
      figure: 'build-and-deliver',
      value: large.rows / large.totalSeconds,
      unit: 'rows/s',
      bound: Math.min(copyOut.value, uploadRows),
    },
    { figure: 'build-and-deliver-time', value: large.totalSeconds, unit: 's' },
    { figure: 'build', value: large.rows / large.buildSeconds, unit: 'rows/s', bound: copyOut.value },
    { figure: 'build-time', value: large.buildSeconds, unit: 's' },
    {
      figure: 'deliver',
      value: large.bytes / 1e6 / large.deliverSeconds,
      unit: 'MB/s',
      bound: upload.value,
    },
    { figure: 'deliver-time', value: large.deliverSeconds, unit: 's' },
    { figure: 'peak-rss', value: mib(large.maxRssKiB), unit: 'MiB', bound: mib(small.maxRssKiB) },
    { figure: 'rows', value: large.rows, unit: 'rows' },
    { figure: 'file-size', value: large.bytes / 1e6, unit: 'MB' },
    ...curve.flatMap(({ label, result }) => [
      { figure: `curve-${label}-rows`, value: result.rows, unit: 'rows' },
      { figure: `curve-${label}-time`, value: result.totalSeconds, unit: 's' },
      { figure: `curve-${label}-peak-rss`, value: mib(result.maxRssKiB), unit: 'MiB' },
    ]),
  ];
}
