import type { Command } from 'commander';

/**
 * One example per command, by its path under `boarding`, shown at the end of its `--help`. Kept
 * in one table so that a command added without one fails help-examples.test.ts.
 */
export const EXAMPLES: Record<string, string[]> = {
  stack: ['npx boarding stack up'],
  'stack up': ['npx boarding stack up'],
  'stack down': ['npx boarding stack down'],
  'stack status': ['npx boarding stack status --json'],
  doctor: ['npx boarding doctor --service exporter'],
  migrate: ['npx boarding migrate'],
  registry: ['npx boarding registry import registry.csv'],
  'registry import': ['npx boarding registry import registry.csv --skip-invalid --rejects rejects.csv'],
  'registry show': ['npx boarding registry show --card 0400000000000A01 --at 2020-11-20T08:15:00+03:00'],
  'registry history': [
    'npx boarding registry history --card 0400000000000A01 --reveal --reason "ticket 1234"',
  ],
  apikey: ['npx boarding apikey list'],
  'apikey create': ['npx boarding apikey create --channel WEB --label "citizen portal"'],
  'apikey list': ['npx boarding apikey list --json'],
  'apikey revoke': ['npx boarding apikey revoke 42'],
  'apikey locations': ['npx boarding apikey locations'],
  ingest: ['npx boarding ingest --until-caught-up --timeout 600'],
  'ingest reconcile': ['npx boarding ingest reconcile --day 2020-11-20'],
  serve: ['npx boarding serve exporter --port 9102'],
  simulate: ['npx boarding simulate --day 2020-11-20 --taps 200000 --seed 7 --registry-out registry.csv'],
  deadletters: ['npx boarding deadletters list --day 2020-11-20'],
  'deadletters list': ['npx boarding deadletters list --day 2020-11-20 --limit 20'],
  'deadletters show': ['npx boarding deadletters show 3:1200'],
  export: ['npx boarding export run --day 2020-11-20'],
  'export run': [
    'npx boarding export run --day 2020-11-20',
    'npx boarding export run --from 2020-11-01 --to 2020-11-07 --dry-run',
  ],
  'export status': ['npx boarding export status --day 2020-11-20'],
  replay: [
    'npx boarding replay --day 2020-11-20',
    'npx boarding replay --from 2020-11-18 --to 2020-11-20 --deliver',
  ],
  retention: ['npx boarding retention run --dry-run'],
  'retention run': ['npx boarding retention run --dry-run --json'],
  day: ['npx boarding day show 2020-11-20'],
  'day show': ['npx boarding day show 2020-11-20 --json'],
  days: ['npx boarding days list --from 2020-11-01 --to 2020-11-30'],
  'days list': ['npx boarding days list --from 2020-11-01 --to 2020-11-30'],
  status: ['npx boarding status lag'],
  'status init': ['npx boarding status init'],
  'status publish': ['npx boarding status publish --full'],
  'status show': ['npx boarding status show 0400000000000A01'],
  'status lag': ['npx boarding status lag --json'],
  demo: ['npx boarding demo --taps 20000'],
};

/** Every command under `program`, with its path (`export run`), parents before children. */
export function commandPaths(program: Command): { path: string; command: Command }[] {
  const out: { path: string; command: Command }[] = [];
  const walk = (c: Command, prefix: string[]) => {
    for (const sub of c.commands) {
      const path = [...prefix, sub.name()];
      out.push({ path: path.join(' '), command: sub });
      walk(sub, path);
    }
  };
  walk(program, []);
  return out;
}

/** Add each command's example(s) to the end of its --help. */
export function addExamples(program: Command): void {
  for (const { path, command } of commandPaths(program)) {
    const examples = EXAMPLES[path];
    if (!examples) continue;
    const title = examples.length === 1 ? 'Example' : 'Examples';
    command.addHelpText('after', `\n${title}:\n${examples.map((e) => `  ${e}`).join('\n')}`);
  }
}
