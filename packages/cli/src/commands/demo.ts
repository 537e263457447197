import { addDays, calendarDateIn, SERVICE_TIME_ZONE } from '@boarding/contracts/time';
import { DEMO_TARGETS, type DemoTarget, isDemoTarget } from '@boarding/demo/demo-targets';
import { type DemoResult, type RunCommand, runDemo } from '@boarding/demo/run-demo';
import { type Command, InvalidArgumentError } from 'commander';
import { parseDay, wholeNumber } from '../arguments';
import { emit, type GlobalOptions, progressLine, table } from '../output';

type DemoOptions = GlobalOptions & { day?: string; taps: number; seed: number; allowTarget?: DemoTarget[] };

/** `--allow-target VAR`, repeatable: each a name of `DEMO_TARGETS`, collected in order. */
function collectTarget(value: string, previous: DemoTarget[] = []): DemoTarget[] {
  if (!isDemoTarget(value)) throw new InvalidArgumentError(`must be one of ${DEMO_TARGETS.join(', ')}`);
  return previous.includes(value) ? previous : [...previous, value];
}

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
    .option(
      '--allow-target <VAR>',
      `let VAR point at a test host, not the local stack; repeat for each. VAR: ${DEMO_TARGETS.join(', ')} (SFTP_HOST covers SFTP_PORT). Without it the demo refuses to run, before any step, unless each is unset or the local stack's (.local/stack.env)`,
      collectTarget,
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: DemoOptions) => {
      const day = parseDay(options.day ?? addDays(calendarDateIn(new Date(), SERVICE_TIME_ZONE), -1));
      const result = await runDemo(
        { day, taps: options.taps, seed: options.seed, allowTargets: options.allowTarget ?? [] },
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
