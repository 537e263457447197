import { addDays, calendarDateIn, SERVICE_TIME_ZONE } from '@boarding/contracts/time';
import { type DemoResult, type RunCommand, runDemo } from '@boarding/demo/run-demo';
import type { Command } from 'commander';
import { parseDay, wholeNumber } from '../arguments';
import { emit, type GlobalOptions, progressLine, table } from '../output';

type DemoOptions = GlobalOptions & { day?: string; taps: number; seed: number };

/** `boarding demo`: maps the flags, runs the demo's plan (`@boarding/demo`), prints what it delivered. */
export function registerDemo(program: Command, run: RunCommand): void {
  program
    .command('demo')
    .description(
      'the whole pipeline on a simulated day: stack up, migrate, simulate a registry and a day, import, ingest, nightly export job (BullMQ), SFTP delivery',
    )
    .option('--day <YYYY-MM-DD>', 'the service day to simulate (default: yesterday in Europe/Istanbul)')
    .option(
      '--taps <n>',
      'taps of the simulated day (about a minute of work at the default)',
      wholeNumber(1),
      200000,
    )
    .option('--seed <n>', 'simulation seed: the same seed gives the same day', wholeNumber(1), 1)
    .option('--json', 'print the result as JSON')
    .action(async (options: DemoOptions) => {
      const day = parseDay(options.day ?? addDays(calendarDateIn(new Date(), SERVICE_TIME_ZONE), -1));
      const result = await runDemo(
        { day, taps: options.taps, seed: options.seed },
        { run, progress: (m) => progressLine('demo', m), quietSteps: options.json === true },
      );
      emit(options, result, renderDemo);
    });
}

function renderDemo(s: DemoResult): string {
  const st = s.stats;
  return [
    '',
    s.outcome === 'UNCHANGED'
      ? `day ${s.day}: v${s.version} was already delivered and the content is unchanged: nothing new was sent (a fresh --day or --seed delivers a new file)`
      : `day ${s.day}: ${s.outcome.toLowerCase()} v${s.version} by SFTP in ${s.seconds}s end to end`,
    `  file:     ${s.remote}`,
    s.receivedAt ? `  on disk:  ${s.receivedAt} (the local SFTP server's upload directory)` : '',
    `  manifest: ${s.manifest}`,
    `  ${s.rows} rows (matched taps), sha256 ${s.sha256}`,
    `  taps stored ${st.tapsStored}: ${st.accepted} accepted, ${st.rejected} rejected; matched ${st.matched}, unmatched ${st.unmatched}; duplicates dropped ${st.duplicatesDropped}; dead-lettered ${st.deadLettered}`,
    `  validators: ${st.validatorsSeen} seen, ${st.validatorsComplete} complete, ${st.validatorsWithGaps.length} with gaps, ${st.validatorsAwaitingUpload.length} not yet uploaded past the day`,
    `first ${s.sample.length} rows (TC, HES and card masked here; in clear in the delivered file):`,
    s.sample.length > 0
      ? table(
          ['tc_kimlik_no', 'hes_kodu', 'kart_no', 'binis_zamani', 'ulasim_turu', 'hat_kodu', 'sonuc'],
          s.sample.map((r) => [r.tc, r.hes, r.card, r.at, r.mode, r.line, r.result]),
        )
      : '  (none)',
    `the demo ran in its own sandbox (re-created by every run); to look around with its settings:`,
    `  set -a; . ${s.envFile}; set +a`,
    `  npx boarding day show ${s.day}; npx boarding export status --day ${s.day}; npx boarding replay --day ${s.day}`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}
