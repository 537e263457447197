import { addDays, calendarDateIn, SERVICE_TIME_ZONE } from '@boarding/contracts/time';
import { type StartBackground, type StoppedServers, stopDemoServers } from '@boarding/demo/demo-servers';
import { DEMO_TARGETS, type DemoTarget, isDemoTarget } from '@boarding/demo/demo-targets';
import { type DemoResult, type RunCommand, runDemo } from '@boarding/demo/run-demo';
import { type Command, InvalidArgumentError } from 'commander';
import { parseDay, wholeNumber } from '../arguments';
import { emit, type GlobalOptions, progressLine, table } from '../output';

type DemoOptions = GlobalOptions & {
  day?: string;
  taps: number;
  seed: number;
  allowTarget?: DemoTarget[];
  serve: boolean;
  stop?: boolean;
};

/** How the demo starts `boarding` processes: each step to its end, the servers in the background. */
export type DemoProcesses = { run: RunCommand; startBackground: StartBackground };

/** `--allow-target VAR`, repeatable: each a name of `DEMO_TARGETS`, collected in order. */
function collectTarget(value: string, previous: DemoTarget[] = []): DemoTarget[] {
  if (!isDemoTarget(value)) throw new InvalidArgumentError(`must be one of ${DEMO_TARGETS.join(', ')}`);
  return previous.includes(value) ? previous : [...previous, value];
}

/**
 * `boarding demo`: maps the flags, runs the demo's plan (`@boarding/demo`), prints what it delivered
 * and where the registry API it left running is; `--stop` stops that API and its HES stand-in.
 */
export function registerDemo(program: Command, processes: DemoProcesses): void {
  program
    .command('demo')
    .description(
      'the whole pipeline on a simulated day: stack up, migrate, simulate a registry and a day, import, ingest, nightly export job (BullMQ), SFTP delivery; then the registry API and a HES stand-in, a card matched through each channel, the matching page left running',
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
    .option(
      '--no-serve',
      'stop the registry API and the HES stand-in at the end instead of leaving them running for the page',
    )
    .option('--stop', 'only stop the registry API and the HES stand-in an earlier demo left running')
    .option('--json', 'print the result as JSON')
    .action(async (options: DemoOptions) => {
      if (options.stop) {
        emit(options, await stopDemoServers(), renderStopped);
        return;
      }
      const day = parseDay(options.day ?? addDays(calendarDateIn(new Date(), SERVICE_TIME_ZONE), -1));
      const result = await runDemo(
        {
          day,
          taps: options.taps,
          seed: options.seed,
          allowTargets: options.allowTarget ?? [],
          serve: options.serve,
        },
        {
          ...processes,
          progress: (m) => progressLine('demo', m),
          quietSteps: options.json === true,
        },
      );
      emit(options, result, renderDemo);
    });
}

function renderStopped(r: StoppedServers): string {
  const named = (list: StoppedServers['stopped']) =>
    list.map((s) => `${s.service} (pid ${s.pid})`).join(', ');
  return [
    r.stopped.length > 0 ? `stopped ${named(r.stopped)}` : 'no demo server was running',
    r.gone.length > 0 ? `  already ended: ${named(r.gone)}` : '',
    r.unverified.length > 0
      ? `  not verifiable here (no /proc), stop them yourself if they still run: ${named(r.unverified)}`
      : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function renderApi(api: DemoResult['api']): string[] {
  return [
    'the registry API: a card of the simulated day matched through each citizen channel, from now on (the file above is unchanged), and looked up by staff; cards masked, keys shown by id only:',
    table(
      ['channel', 'key id', 'call', 'card', 'status', 'outcome', 'detail'],
      api.calls.map((c) => [
        c.location === null ? c.channel : `${c.channel} @${c.location}`,
        c.keyId,
        c.operation,
        c.card,
        c.status,
        c.outcome,
        c.detail,
      ]),
    ),
    `  the matching page: ${api.page}   (it uses the WEB key ${api.pageKeyId}; OpenAPI: ${api.page}openapi.json)`,
    `  the staff page ${api.page}staff wants a STAFF key on the browser: provision it at ${api.page}device with a key of your own (npx boarding apikey create --channel STAFF, with the demo's settings)`,
    `  HES stand-in ${api.hesStandIn}: ${api.hesData.answers} answers the simulator wrote to ${api.hesData.file}`,
    api.running.length > 0
      ? [
          `running in the background: ${api.running.map((s) => `${s.service} pid ${s.pid} (log ${s.log})`).join(', ')}`,
          '  stop them: npx boarding demo --stop   (the next demo run stops them too)',
        ].join('\n')
      : '  the API and the stand-in were stopped at the end (--no-serve)',
  ];
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
    ...renderApi(s.api),
  ]
    .filter((l) => l !== '')
    .join('\n');
}
