// The rules behind `node scripts/check-imports.mjs`: every package declares what it imports, declares
// nothing it does not use, and imports only along the layering of CONVENTIONS.md (Layout). Pure
// functions over an in-memory model of the workspace, so the rules are unit-tested on made-up
// workspaces; the script only reads the files. TypeScript rather than .mjs because jest's
// CommonJS runtime cannot load an ES module, and this way tsc and biome check the rules too.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';

export type Layer = {
  level: number;
  name: string;
  packages: readonly string[];
  // Every workspace package under one of these repo-relative folders belongs to the layer.
  directories?: readonly string[];
  // Whether a product file may import another package of its own layer (cycles are reported anyway).
  sameLayer: boolean;
};

// Lowest layer first. A product file imports only its own layer (where allowed) or lower ones. Test
// files are exempt: a test may drive anything its package declares. A workspace package missing from
// this table is itself a violation, so a new package has to be placed deliberately.
export const LAYERS: readonly Layer[] = [
  // Foundation: schemas, settings, logging and the shutdown registry that every process needs and that
  // know no storage or transport. lifecycle logs through logger, hence same-layer imports.
  {
    level: 0,
    name: 'foundation',
    packages: ['@boarding/contracts', '@boarding/config', '@boarding/logger', '@boarding/lifecycle'],
    sameLayer: true,
  },
  // Adapters: one client each for PostgreSQL (schema, bulk SQL), Kafka, the key ring and field cipher,
  // the host-key-pinned SFTP connection, and the ops HTTP server. No business rule lives here, so every
  // domain package (and the stack's health checks) can share them.
  {
    level: 1,
    name: 'adapters',
    packages: [
      '@boarding/db',
      '@boarding/kafka',
      '@boarding/encryption',
      '@boarding/sftp',
      '@boarding/ops-http',
      // The HES service client (timeouts, retries, breaker) and its stand-in: outbound I/O, no business rule.
      '@boarding/hes',
      '@boarding/redis',
    ],
    sameLayer: true,
  },
  // Domain: the packages that own the data and its rules, shared by services, CLI and jobs. delivery is
  // here, not among the adapters: it owns the delivery ledger and delivers a day's export (it imports db
  // and export); the bare SFTP connection it uses is the sftp adapter. day composes ingest, export and
  // delivery into the functions behind `boarding day` and `boarding replay`, hence same-layer imports.
  // simulator produces the synthetic taps the CLI publishes. demo holds the demo's plan (a sandbox,
  // then the real commands, run through a callback the CLI gives it). doctor checks a deployment's
  // settings and dependencies (`boarding doctor`) with the adapters' clients, ingest's group lag and
  // registry's key check; it is given the services' env schemas, it never imports a service.
  {
    level: 2,
    name: 'domain',
    packages: [
      '@boarding/registry',
      '@boarding/status-feed',
      '@boarding/retention',
      '@boarding/ingest',
      '@boarding/export',
      '@boarding/delivery',
      '@boarding/day',
      '@boarding/demo',
      '@boarding/simulator',
      '@boarding/doctor',
    ],
    sameLayer: true,
  },
  // Provisioning: stack installs and starts the local PostgreSQL, Redis, Kafka and SFTP and health-checks
  // them with the adapters' clients. It sits above the domain so that no domain code can provision a
  // server: only the CLI (`boarding stack`), the tests and the bench use it.
  { level: 3, name: 'provisioning', packages: ['@boarding/stack'], sameLayer: true },
  // Entry points: the deployables (every package under services/) and the CLI. They wire the layers
  // below; none imports another, because a service is a process boundary and the CLI reaches a service
  // only through `boarding serve` (CLI_SERVE).
  {
    level: 4,
    name: 'entry points',
    packages: ['@boarding/cli'],
    directories: ['services/'],
    sameLayer: false,
  },
  // Test and bench tooling: above everything because they drive everything; no product file below
  // imports them (bench drives the stack through testing's helpers, hence same-layer imports).
  {
    level: 5,
    name: 'test and bench tooling',
    packages: ['@boarding/testing', '@boarding/bench'],
    sameLayer: true,
  },
];

// The one place the CLI may import a service from: `boarding serve` runs a service in-process.
export const CLI_SERVE: { package: string; files: readonly string[] } = {
  package: '@boarding/cli',
  files: ['src/commands/serve.ts'],
};

// The one place the CLI may read a service's settings schema (its `/env` subpath: zod, no behaviour):
// `boarding doctor` checks each service's settings against the schema the service itself parses.
export const CLI_SERVICE_ENV: { package: string; files: readonly string[]; subpath: string } = {
  package: '@boarding/cli',
  files: ['src/commands/doctor.ts'],
  subpath: '/env',
};

/**
 * Known debts, each with the reason it is allowed for now and where it gets paid. An entry
 * here is a promise, not a rule: the list should only shrink.
 */
export const KNOWN_EXCEPTIONS: readonly { package: string; file: string; rule: string; why: string }[] = [];

export type ImportKind = 'import' | 'export' | 'dynamic-import' | 'require' | 'require-resolve';

export type ModuleReference = {
  specifier: string;
  // Line of the `import` / `export` / `require` keyword, 1-based.
  line: number;
  kind: ImportKind;
  // `import type …` / `export type …`. Informational only: a type-only import counts like any other,
  // because the declaration that makes it compile has to be there either way (see findViolations).
  typeOnly: boolean;
};

export type SourceFile = {
  // Repo-relative, forward slashes.
  path: string;
  source: string;
};

export type WorkspacePackage = {
  name: string;
  // Repo-relative folder, forward slashes, no trailing slash.
  dir: string;
  // package.json text, only to report an unused dependency on its own line.
  manifest?: string;
  dependencies: readonly string[];
  devDependencies: readonly string[];
  peerDependencies: readonly string[];
  // The command strings of package.json "scripts".
  scripts: readonly string[];
  files: readonly SourceFile[];
};

export type Workspace = {
  // The root package.json's dependencies and devDependencies: shared test tooling (jest, fast-check,
  // drizzle-kit) is pinned once there, so test and tool-config files may import it.
  rootDependencies: readonly string[];
  packages: readonly WorkspacePackage[];
  // Dependency name → the commands it installs (typescript → tsc), to see it used by a script.
  dependencyBins?: Readonly<Record<string, readonly string[]>>;
};

export type RuleId =
  | 'undeclared'
  | 'dev-dependency-in-product'
  | 'unused-dependency'
  | 'outside-package'
  | 'layering'
  | 'same-layer'
  | 'test-tooling-in-product'
  | 'service-imports-service'
  | 'cli-imports-service'
  | 'cycle'
  | 'unlisted-package';

export type Violation = {
  rule: RuleId;
  package: string;
  file: string;
  line: number;
  // The specifier as written, or the declared dependency for unused-dependency / unlisted-package.
  target: string;
  message: string;
};

type Token = { kind: 'name' | 'string' | 'punct' | 'other'; text: string; line: number };

// After these words a `/` starts a regular expression, not a division.
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

function isNameStart(c: string): boolean {
  return /[A-Za-z_$]/.test(c) || c.charCodeAt(0) > 127;
}

function isNamePart(c: string): boolean {
  return /[\w$]/.test(c) || c.charCodeAt(0) > 127;
}

function regexAllowedAfter(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'punct') return prev.text !== ')' && prev.text !== ']' && prev.text !== '}';
  if (prev.kind === 'name') return REGEX_AFTER_WORDS.has(prev.text);
  return false;
}

/**
 * Splits source into the tokens the import patterns need. Comments, string contents, template text
 * and regular expressions are consumed whole so that `import x from 'y'` written inside any of them is
 * never mistaken for an import. Not a full lexer: a string ends at an unescaped newline, so a
 * mis-guessed regex can garble at most one line.
 */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = source.startsWith('#!') ? source.indexOf('\n') : 0;
  if (i < 0) return tokens;
  let line = 1;
  let braceDepth = 0;
  // Brace depth at which each open `${` of a template began: its closing `}` resumes the template.
  const templateStack: number[] = [];

  // Reads template text from `start` up to the closing backtick or a `${`; returns the index after it.
  const readTemplate = (start: number): number => {
    let j = start;
    while (j < n) {
      const c = source[j];
      if (c === '\\') {
        if (source[j + 1] === '\n') line++;
        j += 2;
      } else if (c === '\n') {
        line++;
        j++;
      } else if (c === '`') {
        return j + 1;
      } else if (c === '$' && source[j + 1] === '{') {
        braceDepth++;
        templateStack.push(braceDepth);
        return j + 2;
      } else {
        j++;
      }
    }
    return n;
  };

  while (i < n) {
    const c = source[i] ?? '';
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
      i++;
    } else if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const startLine = line;
      let j = i + 1;
      let text = '';
      while (j < n && source[j] !== c && source[j] !== '\n') {
        if (source[j] === '\\') {
          if (source[j + 1] === '\n') line++;
          text += source.slice(j, j + 2);
          j += 2;
        } else {
          text += source[j];
          j++;
        }
      }
      tokens.push({ kind: 'string', text, line: startLine });
      i = source[j] === c ? j + 1 : j;
    } else if (c === '`') {
      tokens.push({ kind: 'other', text: '`', line });
      i = readTemplate(i + 1);
    } else if (
      c === '}' &&
      templateStack.length > 0 &&
      templateStack[templateStack.length - 1] === braceDepth
    ) {
      templateStack.pop();
      braceDepth--;
      i = readTemplate(i + 1);
    } else if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNamePart(source[j] ?? '')) j++;
      tokens.push({ kind: 'name', text: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j] ?? '')) j++;
      tokens.push({ kind: 'other', text: source.slice(i, j), line });
      i = j;
    } else if (c === '/' && regexAllowedAfter(tokens[tokens.length - 1])) {
      let j = i + 1;
      let inClass = false;
      let closed = false;
      while (j < n && source[j] !== '\n') {
        const r = source[j];
        if (r === '\\') {
          j += 2;
          continue;
        }
        if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) {
          closed = true;
          break;
        }
        j++;
      }
      if (closed) {
        j++;
        while (j < n && /[a-z]/.test(source[j] ?? '')) j++;
        tokens.push({ kind: 'other', text: source.slice(i, j), line });
        i = j;
      } else {
        // Not a regex after all (no closing slash on the line): a lone punctuator.
        tokens.push({ kind: 'punct', text: c, line });
        i++;
      }
    } else {
      if (c === '{') braceDepth++;
      else if (c === '}') braceDepth--;
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    }
  }
  return tokens;
}

function isPunct(t: Token | undefined, text: string): boolean {
  return t !== undefined && t.kind === 'punct' && t.text === text;
}

function isName(t: Token | undefined, text?: string): boolean {
  return t !== undefined && t.kind === 'name' && (text === undefined || t.text === text);
}

// Index of the token after `from '…'` if the clause starting at `j` is `{ … } from '…'`,
// `* as ns from '…'` or (imports only) `Default[, …] from '…'`; -1 otherwise.
function fromClause(tokens: readonly Token[], start: number, allowDefault: boolean): number {
  let j = start;
  if (allowDefault && isName(tokens[j]) && !isName(tokens[j], 'from')) {
    j++;
    if (isPunct(tokens[j], ',')) j++;
    else return isName(tokens[j], 'from') && tokens[j + 1]?.kind === 'string' ? j + 1 : -1;
  }
  if (isPunct(tokens[j], '*')) {
    j++;
    if (isName(tokens[j], 'as')) j += 2;
  } else if (isPunct(tokens[j], '{')) {
    while (j < tokens.length && !isPunct(tokens[j], '}')) j++;
    j++;
  } else {
    return -1;
  }
  return isName(tokens[j], 'from') && tokens[j + 1]?.kind === 'string' ? j + 1 : -1;
}

/**
 * The module specifiers a file references: static imports and re-exports (type-only included),
 * side-effect imports, `import('…')` (also in type positions), `require('…')` and
 * `require.resolve('…')` (it fails at run time without the package as surely as `require`). Only
 * literal specifiers: `import(variable)`, `jest.mock('…')` and worker paths built with
 * `new URL('…', import.meta.url)` are out of scope.
 */
export function parseSpecifiers(source: string): ModuleReference[] {
  const tokens = tokenize(source);
  const refs: ModuleReference[] = [];
  const add = (at: Token, str: Token | undefined, kind: ImportKind, typeOnly: boolean) => {
    if (str?.kind === 'string') refs.push({ specifier: str.text, line: at.line, kind, typeOnly });
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t === undefined || t.kind !== 'name') continue;
    // `obj.import(…)`, `module.require(…)`, `import.meta`: members, not module references.
    if (isPunct(tokens[k - 1], '.')) continue;
    const a = tokens[k + 1];
    if (t.text === 'import') {
      if (a?.kind === 'string') {
        add(t, a, 'import', false);
      } else if (isPunct(a, '(')) {
        const b = tokens[k + 3];
        if (tokens[k + 2]?.kind === 'string' && (isPunct(b, ')') || isPunct(b, ','))) {
          add(t, tokens[k + 2], 'dynamic-import', false);
        }
      } else {
        // `import type X from`, but not a default import named `type` (`import type from 'x'`).
        const b = tokens[k + 2];
        const typeOnly = isName(a, 'type') && !isName(b, 'from') && !isPunct(b, ',') && !isPunct(b, '=');
        const at = fromClause(tokens, k + (typeOnly ? 2 : 1), true);
        if (at >= 0) add(t, tokens[at], 'import', typeOnly);
      }
    } else if (t.text === 'export') {
      const typeOnly = isName(a, 'type');
      const at = fromClause(tokens, k + (typeOnly ? 2 : 1), false);
      if (at >= 0) add(t, tokens[at], 'export', typeOnly);
    } else if (t.text === 'require') {
      if (isPunct(a, '(') && isPunct(tokens[k + 3], ')')) {
        add(t, tokens[k + 2], 'require', false);
      } else if (isPunct(a, '.') && isName(tokens[k + 2], 'resolve') && isPunct(tokens[k + 3], '(')) {
        const close = tokens[k + 5];
        if (isPunct(close, ')') || isPunct(close, ',')) add(t, tokens[k + 4], 'require-resolve', false);
      }
    }
  }
  return refs;
}

const BUILTINS = new Set(builtinModules);

/**
 * The package a specifier loads (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`), or null for
 * what no package.json declares: relative and absolute paths, Node built-ins with or without `node:`,
 * other URL schemes, and `#subpath` imports.
 */
export function packageOf(specifier: string): string | null {
  if (specifier === '' || specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return null;
  const parts = specifier.split('/');
  const first = parts[0] ?? '';
  if (first.startsWith('@')) {
    const second = parts[1];
    return second === undefined || second === '' ? null : `${first}/${second}`;
  }
  if (BUILTINS.has(specifier) || BUILTINS.has(first)) return null;
  return first;
}

/**
 * `dev` for files that never run in production: tests, their helpers, jest setup and tool config at the
 * package root (drizzle.config.ts). They may use devDependencies and the root's shared test tooling,
 * and are exempt from layering. Everything else (src, bin) is `product`.
 */
export function fileRole(packageRelativePath: string): 'product' | 'dev' {
  const p = packageRelativePath;
  if (/\.test\.[cm]?[jt]sx?$/.test(p)) return 'dev'; // *.test, *.int.test, *.disruptive.test
  if (/\.test-helpers\.[cm]?[jt]sx?$/.test(p)) return 'dev';
  if (/(^|\/)src\/testing\//.test(p)) return 'dev';
  if (/(^|\/)(global-setup|global-teardown|jest\.setup|setup-tests?)\.[cm]?[jt]sx?$/.test(p)) return 'dev';
  if (/^[^/]+\.config\.[cm]?[jt]sx?$/.test(p)) return 'dev';
  return 'product';
}

export function layerOf(pkg: Pick<WorkspacePackage, 'name' | 'dir'>): Layer | undefined {
  return LAYERS.find(
    (l) => l.packages.includes(pkg.name) || (l.directories ?? []).some((d) => `${pkg.dir}/`.startsWith(d)),
  );
}

function isService(pkg: Pick<WorkspacePackage, 'dir'>): boolean {
  return `${pkg.dir}/`.startsWith('services/');
}

const TOOLING_LEVEL = Math.max(...LAYERS.map((l) => l.level));

function layerCheck(
  from: WorkspacePackage,
  to: WorkspacePackage,
  packagePath: string,
  specifier: string,
): { rule: RuleId; message: string } | null {
  const lf = layerOf(from);
  const lt = layerOf(to);
  // An unlisted package is reported once on its own; its edges cannot be judged.
  if (lf === undefined || lt === undefined) return null;
  if (isService(to)) {
    if (isService(from)) {
      return { rule: 'service-imports-service', message: 'no service imports another service' };
    }
    if (from.name === CLI_SERVE.package) {
      if (CLI_SERVE.files.includes(packagePath)) return null;
      const readsEnv =
        from.name === CLI_SERVICE_ENV.package &&
        CLI_SERVICE_ENV.files.includes(packagePath) &&
        specifier === `${to.name}${CLI_SERVICE_ENV.subpath}`;
      if (readsEnv) return null;
      const known = KNOWN_EXCEPTIONS.some(
        (e) => e.package === from.name && e.file === packagePath && e.rule === 'cli-imports-service',
      );
      if (known) return null;
      return {
        rule: 'cli-imports-service',
        message: `the CLI reaches a service only through \`boarding serve\` (${CLI_SERVE.files.join(', ')})`,
      };
    }
  }
  if (lt.level === TOOLING_LEVEL && lf.level < TOOLING_LEVEL) {
    return { rule: 'test-tooling-in-product', message: 'product code never imports testing or bench' };
  }
  if (lt.level > lf.level) {
    return {
      rule: 'layering',
      message: `${lf.name} (layer ${lf.level}) may not import ${lt.name} (layer ${lt.level})`,
    };
  }
  if (lt.level === lf.level && !lf.sameLayer) {
    return { rule: 'same-layer', message: `${lf.name} may not import each other` };
  }
  return null;
}

function manifestLine(manifest: string | undefined, section: string, key: string): number {
  if (manifest === undefined) return 1;
  const sectionAt = manifest.indexOf(`"${section}"`);
  const keyAt = sectionAt < 0 ? -1 : manifest.indexOf(`"${key}"`, sectionAt);
  if (keyAt < 0) return 1;
  return manifest.slice(0, keyAt).split('\n').length;
}

// Whether a package.json script runs this command (`tsc -p …`, `npx tsx x.ts`, `a && drizzle-kit …`).
function scriptRuns(script: string, command: string): boolean {
  const escaped = command.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(^|[\\s;&|(])${escaped}($|[\\s;&|)])`).test(script);
}

// One import standing for all of a package's imports of another: a product one when there is one,
// since that edge is the harder one to cut.
type Edge = { file: string; line: number; specifier: string; dev: boolean };

// Strongly connected components of the package graph (Tarjan); only those with a cycle are returned.
function cyclicComponents(edges: ReadonlyMap<string, ReadonlyMap<string, Edge>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

// Shortest path from `start` to `goal` inside one component, both ends included.
function pathWithin(
  edges: ReadonlyMap<string, ReadonlyMap<string, Edge>>,
  members: ReadonlySet<string>,
  start: string,
  goal: string,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === undefined || v === goal) break;
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!members.has(w) || seen.has(w)) continue;
      seen.add(w);
      previous.set(w, v);
      queue.push(w);
    }
  }
  const path = [goal];
  for (let v = previous.get(goal); v !== undefined; v = previous.get(v)) path.unshift(v);
  return path;
}

/**
 * Every violation in the workspace:
 * - undeclared / dev-dependency-in-product: a product file imports only what `dependencies` or
 *   `peerDependencies` declare; a dev file (fileRole) may also use `devDependencies` and the root's.
 *   `import type` counts like a normal import: simplest, and it keeps tsc working when the package is
 *   type-checked alone.
 * - unused-dependency: a `dependencies` entry no file imports and no script runs (`@types/*` exempt).
 * - outside-package: a relative import leaving the package folder bypasses its declarations.
 * - layering rules over workspace packages, product files only (see LAYERS and CLI_SERVE).
 * - cycle: any cycle between workspace packages, test imports included, because turbo refuses a
 *   cyclic workspace graph whichever dependency field closes it.
 */
export function findViolations(workspace: Workspace): Violation[] {
  const byName = new Map(workspace.packages.map((p) => [p.name, p]));
  const rootDeclared = new Set(workspace.rootDependencies);
  const edges = new Map<string, Map<string, Edge>>();
  const violations: Violation[] = [];

  for (const pkg of workspace.packages) {
    const manifestPath = `${pkg.dir}/package.json`;
    if (layerOf(pkg) === undefined) {
      violations.push({
        rule: 'unlisted-package',
        package: pkg.name,
        file: manifestPath,
        line: manifestLine(pkg.manifest, 'name', pkg.name),
        target: pkg.name,
        message: 'not in the layer table of check-imports-core.ts: place it in a layer',
      });
    }
    const deps = new Set(pkg.dependencies);
    const devDeps = new Set(pkg.devDependencies);
    const peerDeps = new Set(pkg.peerDependencies);
    const used = new Set<string>();

    for (const file of pkg.files) {
      const packagePath = file.path.startsWith(`${pkg.dir}/`)
        ? file.path.slice(pkg.dir.length + 1)
        : file.path;
      const role = fileRole(packagePath);
      for (const ref of parseSpecifiers(file.source)) {
        const at = { package: pkg.name, file: file.path, line: ref.line, target: ref.specifier };
        if (ref.specifier.startsWith('.')) {
          const resolved = posix.normalize(posix.join(posix.dirname(packagePath), ref.specifier));
          if (resolved === '..' || resolved.startsWith('../')) {
            violations.push({
              ...at,
              rule: 'outside-package',
              message: 'a relative import leaves the package: import the other package by name',
            });
          }
          continue;
        }
        const target = packageOf(ref.specifier);
        if (target === null) continue;
        used.add(target);
        // A package importing itself by name resolves through its own `exports`; nothing to declare.
        if (target === pkg.name) continue;

        if (!deps.has(target) && !peerDeps.has(target)) {
          if (role === 'product' && devDeps.has(target)) {
            violations.push({
              ...at,
              rule: 'dev-dependency-in-product',
              message: `${target} is only a devDependency; a product file needs it in dependencies`,
            });
          } else if (role === 'product') {
            violations.push({
              ...at,
              rule: 'undeclared',
              message: `${target} is not in dependencies${rootDeclared.has(target) ? ' (only the root declares it)' : ''}`,
            });
          } else if (!devDeps.has(target) && !rootDeclared.has(target)) {
            violations.push({
              ...at,
              rule: 'undeclared',
              message: `${target} is declared neither by the package nor by the root`,
            });
          }
        }

        const to = byName.get(target);
        if (to === undefined) continue;
        const out = edges.get(pkg.name) ?? new Map<string, Edge>();
        edges.set(pkg.name, out);
        if (out.get(target)?.dev ?? true) {
          const dev = role === 'dev';
          if (!out.has(target) || !dev)
            out.set(target, { file: file.path, line: ref.line, specifier: ref.specifier, dev });
        }
        if (role === 'product') {
          const broken = layerCheck(pkg, to, packagePath, ref.specifier);
          if (broken !== null) violations.push({ ...at, ...broken });
        }
      }
    }

    for (const dep of pkg.dependencies) {
      if (used.has(dep) || dep.startsWith('@types/')) continue;
      const commands = [dep, ...(workspace.dependencyBins?.[dep] ?? [])];
      if (pkg.scripts.some((s) => commands.some((c) => scriptRuns(s, c)))) continue;
      violations.push({
        rule: 'unused-dependency',
        package: pkg.name,
        file: manifestPath,
        line: manifestLine(pkg.manifest, 'dependencies', dep),
        target: dep,
        message: 'declared in dependencies but no file imports it and no script runs it',
      });
    }
  }

  for (const component of cyclicComponents(edges)) {
    const members = new Set(component);
    for (const from of [...component].sort()) {
      for (const [to, edge] of edges.get(from) ?? []) {
        if (!members.has(to)) continue;
        const loop = [from, ...pathWithin(edges, members, to, from)];
        violations.push({
          rule: 'cycle',
          package: from,
          file: edge.file,
          line: edge.line,
          target: edge.specifier,
          message: `package cycle ${loop.join(' → ')}`,
        });
      }
    }
  }

  // Rebuilt with one key order so `--json` reads the same for every rule.
  return violations
    .map(({ rule, package: name, file, line, target, message }) => ({
      rule,
      package: name,
      file,
      line,
      target,
      message,
    }))
    .sort(
      (a, b) =>
        a.package.localeCompare(b.package) ||
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.target.localeCompare(b.target) ||
        a.rule.localeCompare(b.rule),
    );
}

/** One line per violation: `package: file:line imports X — rule: why`. */
export function formatViolation(v: Violation): string {
  const verb = v.rule === 'unused-dependency' || v.rule === 'unlisted-package' ? 'declares' : 'imports';
  return `${v.package}: ${v.file}:${v.line} ${verb} ${v.target} — ${v.rule}: ${v.message}`;
}

export function countByRule(violations: readonly Violation[]): Partial<Record<RuleId, number>> {
  const counts: Partial<Record<RuleId, number>> = {};
  for (const v of violations) counts[v.rule] = (counts[v.rule] ?? 0) + 1;
  return counts;
}
