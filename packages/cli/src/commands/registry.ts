import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { createDb } from '@boarding/db/client';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { type ImportReport, importMatches } from '@boarding/registry/import/import-matches';
import { formatReject } from '@boarding/registry/import/reject-log';
import { type CardHistory, getCardHistory, REVEAL_REASON_MIN } from '@boarding/registry/reads/card-history';
import { type CardLookup, lookUpCard } from '@boarding/registry/reads/card-lookup';
import type { Command } from 'commander';
import { parseCardNo, parseInstant, UsageError } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';
import { createProgressBar } from '../progress';
import { verifyKeys } from '../verify-keys';

type ImportOptions = GlobalOptions & { skipInvalid?: boolean; rejects?: string; actor?: string };

const SHOWN_REJECTS = 50;

function human(r: ImportReport): string {
  const secs = (r.ms / 1000).toFixed(1);
  const lines: string[] = [];
  if (r.outcome === 'REJECTED') {
    lines.push(
      `${r.file}: REJECTED, nothing applied (${r.invalid} invalid of ${r.rows} rows; the file is applied in one transaction or not at all)`,
    );
  } else if (r.outcome === 'UNCHANGED') {
    lines.push(
      `${r.file}: UNCHANGED, nothing to apply: all ${r.applied?.unchanged ?? 0} valid rows are already in the registry (${secs}s)`,
    );
  } else {
    const a = r.applied;
    lines.push(`${r.file}: APPLIED in one transaction (${secs}s)`);
    if (a) {
      lines.push(
        `  ${r.rows} rows read; matches: ${a.inserted} inserted, ${a.closed} closed, ${a.unchanged} unchanged; ${a.persons} new persons, ${a.cards} new cards`,
      );
    }
  }
  if (r.invalid > 0) {
    for (const reject of r.rejects.slice(0, SHOWN_REJECTS)) lines.push(formatReject(reject));
    if (r.invalid > SHOWN_REJECTS) lines.push(`… and ${r.invalid - SHOWN_REJECTS} more`);
    const by = Object.entries(r.invalidByReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`invalid rows by reason: ${by}`);
    if (r.rejectsFile) lines.push(`every rejected line: ${r.rejectsFile}`);
    if (r.outcome === 'REJECTED')
      lines.push(
        'fix the file, or use --skip-invalid to apply the valid rows and write the rejects to a file',
      );
  }
  return lines.join('\n');
}

type ShowOptions = GlobalOptions & { card: string; at?: string };
type HistoryOptions = GlobalOptions & { card: string; reveal?: boolean; reason?: string };

const iso = (d: Date | null) => (d === null ? '-' : d.toISOString());

/** Who reads, for the audit trail: `BOARDING_ACTOR` (a shared host's named user) or the OS user. */
const readerActor = () => ({
  id: process.env.BOARDING_ACTOR?.trim() || userInfo().username,
  channel: 'ADMIN' as const,
});

/** The keys, checked against the database, and a pool for one read; closed whatever happens. */
async function withRegistry<T>(work: (ctx: RegistryReadContext) => Promise<T>): Promise<T> {
  const keyring = loadKeyring();
  const { db, pool } = createDb({ pool: { max: 1 } });
  try {
    // Even a masked read decrypts (to mask): a wrong key must stop here, not as a decrypt error.
    await verifyKeys(pool, keyring);
    return await work({ db, keyring, actor: readerActor() });
  } finally {
    await pool.end();
  }
}
type RegistryReadContext = Parameters<typeof lookUpCard>[0]['ctx'];

function whyNoMatch(r: CardLookup): string {
  switch (r.status) {
    case 'UNKNOWN_CARD':
      return 'the card was never matched (it is not in the registry)';
    case 'NEVER_MATCHED':
      return 'the card was never matched (its only matches were retracted as wrong)';
    case 'NOT_YET_STARTED':
      return `the match starts at ${iso(r.startsAt ?? null)}, after ${iso(r.at)}`;
    case 'RETRACTED':
      return `the match that covered it was retracted as wrong at ${iso(r.retracted?.at ?? null)} (${r.retracted?.reason ?? 'no reason recorded'})`;
    case 'ENDED': {
      const how =
        r.ended?.how === 'REPLACED'
          ? `replaced by card ${r.ended.replacedBy}`
          : r.ended?.how === 'CORRECTED'
            ? 'corrected'
            : 'unmatched';
      return `the match ended at ${iso(r.ended?.at ?? null)} (${how})`;
    }
    default:
      return '';
  }
}

function showHuman(r: CardLookup): string {
  if (!r.match) return `card ${r.cardNo}: no match at ${iso(r.at)}: ${whyNoMatch(r)}`;
  const m = r.match;
  return [
    `card ${r.cardNo}: matched at ${iso(r.at)}`,
    `  TC kimlik no  ${m.tcKimlikNo}`,
    `  HES code      ${m.hesCode}`,
    `  card kind     ${m.cardKind}`,
    `  valid from    ${iso(m.validFrom)}`,
    `  valid to      ${m.validTo === null ? 'open' : iso(m.validTo)}`,
    `  channel       ${m.channel}`,
  ].join('\n');
}

function historyHuman(h: CardHistory): string {
  if (!h.known) return `card ${h.cardNo}: no history: the card was never matched (it is not in the registry)`;
  const lines = [
    table(
      ['match', 'valid from', 'valid to', 'TC kimlik no', 'HES code', 'kind', 'channel', 'retracted'],
      h.matches.map((m) => [
        m.matchId,
        iso(m.validFrom),
        m.validTo === null ? 'open' : iso(m.validTo),
        m.tcKimlikNo,
        m.hesCode,
        m.cardKind,
        m.channel,
        m.retractedAt === null ? null : `${iso(m.retractedAt)} (${m.retractReason ?? ''})`,
      ]),
    ),
  ];
  lines.unshift(
    `card ${h.cardNo}: ${h.matches.length} match(es), oldest first${h.revealed ? ', CLEAR VALUES (this read is audited)' : ', masked'}`,
  );
  return lines.join('\n');
}

export function registerRegistry(program: Command): void {
  const registry = program.command('registry').description('the card–HES–TC registry');

  registry
    .command('import')
    .description(
      'bulk import matches from a CSV file (header card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to)',
    )
    .argument('<file>', 'the CSV file')
    .option('--skip-invalid', 'apply the valid rows; write invalid and overlapping rows to the rejects file')
    .option(
      '--rejects <file>',
      'where to write rejected lines (default with --skip-invalid: FILE.rejects.csv)',
    )
    .option('--actor <name>', 'who runs the import, for the audit trail (default: the OS user)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: ImportOptions) => {
      const keyring = loadKeyring();
      const { db, pool } = createDb();
      const bar = createProgressBar('import');
      let barStarted = false;
      try {
        // A wrong index key would make every person of the file new: checked before anything is read.
        await verifyKeys(pool, keyring);
        const report = await importMatches({
          ctx: { db, keyring, actor: { id: options.actor ?? userInfo().username, channel: 'IMPORT' } },
          pool,
          input: {
            path: resolve(file),
            skipInvalid: options.skipInvalid ?? false,
            rejectsPath: options.rejects,
          },
          onProgress: (p) => {
            if (!barStarted) {
              bar.start(p.totalBytes, 0, { phase: p.phase, rows: 0 });
              barStarted = true;
            }
            bar.setTotal(p.totalBytes);
            bar.update(p.bytesRead, { phase: p.phase, rows: p.rows });
          },
        });
        if (barStarted) bar.stop();
        emit(options, report, human);
        if (report.outcome === 'REJECTED') process.exitCode = 1;
      } finally {
        if (barStarted) bar.stop();
        await pool.end();
      }
    });

  registry
    .command('show')
    .description("the card's match at an instant (masked), or why there is none: explains an unmatched tap")
    .requiredOption('--card <C>', 'the printed card number (8-20 hex)')
    .option('--at <T>', 'ISO 8601 instant with an offset, e.g. 2020-11-20T08:15:00+03:00 (default: now)')
    .option('--json', 'print { status, match, ended | startsAt | retracted } as JSON')
    .action(async (options: ShowOptions) => {
      const cardNo = parseCardNo(options.card);
      const at = options.at === undefined ? new Date() : parseInstant(options.at ?? '', '--at');
      const result = await withRegistry((ctx) => lookUpCard({ ctx, input: { cardNo, at } }));
      emit(options, result, showHuman);
    });

  registry
    .command('history')
    .description(
      'every match of a card, oldest first, masked; clear values only with --reveal --reason (audited)',
    )
    .requiredOption('--card <C>', 'the printed card number (8-20 hex)')
    .option(
      '--reveal',
      'show TC and HES in clear: one audit row with --reason and who (BOARDING_ACTOR or the OS user)',
    )
    .option(
      '--reason <text>',
      `why clear values are read (at least ${REVEAL_REASON_MIN} characters), kept in the audit row`,
    )
    .option('--json', 'print { cardNo, known, revealed, matches } as JSON')
    .action(async (options: HistoryOptions) => {
      const cardNo = parseCardNo(options.card);
      const reason = options.reason?.trim() ?? '';
      if (options.reveal && reason === '') {
        throw new UsageError('--reveal needs --reason "TEXT": every read of clear values is audited');
      }
      if (options.reveal && reason.length < REVEAL_REASON_MIN) {
        throw new UsageError(`--reason must be at least ${REVEAL_REASON_MIN} characters`);
      }
      if (!options.reveal && options.reason !== undefined) {
        throw new UsageError('--reason goes with --reveal (a masked read is not audited)');
      }
      const input = options.reveal
        ? { cardNo, reveal: true as const, reason }
        : { cardNo, reveal: false as const };
      const result = await withRegistry((ctx) => getCardHistory({ ctx, input }));
      emit(options, result, historyHuman);
    });
}
