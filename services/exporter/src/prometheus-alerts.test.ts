import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { createIngestMetrics } from '@boarding/ingest/metrics';
import { createStatusRelayMetrics } from '@boarding/status-feed/relay-metrics';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createExporterMetrics } from './metrics';

// infra/prometheus/alerts.yml is read by Prometheus, not by our code: nothing else would notice a
// rule on a metric that was renamed, a label that does not exist, or a rule without a severity.
// Here every rule is checked against what the processes really register. promtool's own unit
// tests (alerts.test.yml) run too where promtool is installed (PROMTOOL=/path, or on PATH).

const dir = join(findRepoRoot(__dirname), 'infra', 'prometheus');

type Rule = {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
};
type RuleFile = { groups: { name: string; rules: Rule[] }[] };
type PromtoolTests = {
  rule_files: string[];
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
};

type Family = { type: string; labels: readonly string[] };

/** What a scrape of each target shows: metric family → its type and label names. */
async function scrapedFamilies(): Promise<Map<string, Family>> {
  const families = new Map<string, Family>();
  const add = (registry: Registry) => {
    for (const m of registry.getMetricsAsArray()) {
      const labels = (m as { labelNames?: readonly string[] }).labelNames ?? [];
      const type = String(m.type);
      families.set(m.name, { type, labels });
      // A histogram is scraped as these three series.
      if (type === 'histogram') {
        for (const s of ['_bucket', '_sum', '_count']) {
          families.set(`${m.name}${s}`, { type: 'counter', labels: [...labels, 'le'] });
        }
      }
    }
  };
  add(createExporterMetrics({ failingDays: async () => 0 }).registry);
  add(createIngestMetrics().registry);
  add(createStatusRelayMetrics({ outboxLag: async () => ({ unsent: 0, oldestCreatedAt: null }) }).registry);
  // The registry API registers its request counter itself (a service: not importable here); the
  // test below checks that its source still defines it with these labels.
  families.set(REGISTRY_API_REQUESTS, { type: 'counter', labels: ['route', 'method', 'status'] });
  // Appended to the exporter's /metrics by Queue.exportPrometheusMetrics() (bullmq 5).
  families.set('bullmq_job_count', { type: 'gauge', labels: ['queue', 'state'] });
  families.set('bullmq_job_completed_total', { type: 'counter', labels: ['queue'] });
  families.set('bullmq_job_failed_total', { type: 'counter', labels: ['queue'] });
  // Written by Prometheus itself for every scrape target.
  families.set('up', { type: 'gauge', labels: [] });
  return families;
}

const REGISTRY_API_REQUESTS = 'registry_api_requests_total';

// Labels Prometheus puts on every scraped series (the scrape job and target).
const TARGET_LABELS = ['job', 'instance'];
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/** Metric names an expression selects, with the label names each selector matches on. */
function selectors(expr: string): { name: string; labels: string[] }[] {
  const text = expr
    // Label values and other strings say nothing about names; emptied so nothing in them counts.
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    // Grouping and matching label lists are not metrics: `max by (queue) (x)` → `max (x)`.
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ');
  const found: { name: string; labels: string[] }[] = [];
  // A whole name not followed by `(` (that is a function or an aggregation), with its `{…}`.
  const pattern = /(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()(\s*\{[^}]*\})?/g;
  for (const m of text.matchAll(pattern)) {
    const name = m[1] ?? '';
    if (KEYWORDS.has(name)) continue;
    const labels = [...(m[2] ?? '').matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? '');
    found.push({ name, labels });
  }
  return found;
}

const rulesText = readFileSync(join(dir, 'alerts.yml'), 'utf8');
const rules = (parse(rulesText) as RuleFile).groups.flatMap((g) => g.rules);

describe('infra/prometheus/alerts.yml', () => {
  it('has the alerts an operator needs (SPEC §5)', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'BoardingExportDayNotDelivered',
        'BoardingExportDayFailing',
        'BoardingExportDeliveredIngestBehind',
        'BoardingExportSilentFleet',
        'BoardingExportSchedulerRecreated',
        'BoardingIngestStalled',
        'BoardingIngestLagUnreadable',
        'BoardingIngestOffsetsUnaccounted',
        'BoardingRetentionNotRun',
        'BoardingRetentionFailing',
        'BoardingStatusFeedBehind',
        'BoardingHesRefreshFailing',
        'BoardingHesRefreshStale',
        'BoardingStatusRelayDown',
        'BoardingRegistryApiErrors',
        'BoardingRegistryApiDown',
      ]),
    );
  });

  it.each(rules.map((r) => [String(r.alert), r] as const))(
    '%s has an expression, a for, a severity, and a summary and description for the operator',
    (_name, rule) => {
      expect(rule.alert).toMatch(/^Boarding[A-Z][A-Za-z]+$/);
      expect(typeof rule.expr).toBe('string');
      expect(rule.for).toMatch(/^\d+[smhd]$/);
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toEqual(expect.stringMatching(/\S/));
      // A description says what to do: more than a restated summary.
      expect(String(rule.annotations?.description ?? '').length).toBeGreaterThan(80);
    },
  );

  it("reads the registry API's request counter as the API defines it", () => {
    const source = readFileSync(
      join(findRepoRoot(__dirname), 'services', 'registry-api', 'src', 'registry-api.ts'),
      'utf8',
    );
    expect(source).toMatch(
      new RegExp(`name: '${REGISTRY_API_REQUESTS}',[^}]*labelNames: \\['route', 'method', 'status'\\]`),
    );
  });

  it('registers no metric with a label Prometheus sets on every series itself (job, instance)', async () => {
    const clashing = [...(await scrapedFamilies())]
      .filter(([name, f]) => name !== 'up' && f.labels.some((l) => TARGET_LABELS.includes(l)))
      .map(([name]) => name);
    // Scraped, such a label is renamed exported_job / exported_instance and a rule on it reads nothing.
    expect(clashing).toEqual([]);
  });

  it('names every alert once', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('reads only metrics and labels the services, BullMQ or Prometheus expose', async () => {
    const families = await scrapedFamilies();
    const problems: string[] = [];
    for (const rule of rules) {
      const expr = String(rule.expr);
      const used = selectors(expr);
      if (used.length === 0) problems.push(`${rule.alert}: no metric found in ${expr}`);
      for (const { name, labels } of used) {
        const family = families.get(name);
        if (!family) {
          problems.push(`${rule.alert}: ${name} is registered nowhere`);
          continue;
        }
        for (const label of labels) {
          if (!family.labels.includes(label) && !TARGET_LABELS.includes(label)) {
            problems.push(`${rule.alert}: ${name} has no label ${label}`);
          }
        }
      }
      // rate()/increase() of a gauge is a silent wrong answer, not an error.
      for (const m of expr.matchAll(/\b(?:increase|rate|irate)\(\s*([A-Za-z_:][\w:]*)/g)) {
        const name = m[1] ?? '';
        if (families.get(name)?.type !== 'counter') problems.push(`${rule.alert}: ${name} is not a counter`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finds the metrics of a PromQL expression, not its functions, keywords, labels or durations', () => {
    expect(
      selectors(
        'max by (queue) (bullmq_job_count{state="waiting", queue=~"a|b"}) > 0 and on (queue) ' +
          'sum(increase(x_total{reason="ingest-behind"}[1d] offset 5m)) == 0 or absent(up{job="j"}) or time() - g > 54 * 3600',
      ),
    ).toEqual([
      { name: 'bullmq_job_count', labels: ['state', 'queue'] },
      { name: 'x_total', labels: ['reason'] },
      { name: 'up', labels: ['job'] },
      { name: 'g', labels: [] },
    ]);
  });
});

describe('infra/prometheus/alerts.test.yml', () => {
  const tests = parse(readFileSync(join(dir, 'alerts.test.yml'), 'utf8')) as PromtoolTests;
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);

  it('tests the rule file beside it', () => {
    expect(tests.rule_files).toEqual(['alerts.yml']);
  });

  it.each(rules.map((r) => [String(r.alert)]))(
    'has a case where %s fires and one where it stays quiet',
    (name) => {
      const own = cases.filter((c) => c.alertname === name);
      expect(own.some((c) => c.exp_alerts.length > 0)).toBe(true);
      expect(own.some((c) => c.exp_alerts.length === 0)).toBe(true);
    },
  );

  // Debian's `prometheus` package has promtool (bookworm: 2.42); it is not part of the stack, so
  // this runs where an operator or developer installed it, and says it was skipped elsewhere.
  const promtool = findPromtool();
  (promtool ? it : it.skip)('passes `promtool check rules` and `promtool test rules`', () => {
    const run = (args: string[]) => {
      const r = spawnSync(promtool ?? 'promtool', args, { cwd: dir, encoding: 'utf8' });
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    expect(run(['check', 'rules', 'alerts.yml'])).toMatchObject({ status: 0 });
    const tested = run(['test', 'rules', 'alerts.test.yml']);
    expect(tested.output).toContain('SUCCESS');
    expect(tested).toMatchObject({ status: 0 });
  });
});

function findPromtool(): string | undefined {
  for (const candidate of [process.env.PROMTOOL, 'promtool', '/usr/bin/promtool']) {
    if (!candidate) continue;
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}
