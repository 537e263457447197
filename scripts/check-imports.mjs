#!/usr/bin/env node
// `node scripts/check-imports.mjs [--json] [--root DIR]`: fails when a workspace package imports what
// it does not declare, declares a dependency it never uses, or breaks the layering of CONVENTIONS.md.
// This file only reads the workspace; the rules and the layer table live in
// packages/testing/src/check-imports-core.ts, TypeScript so jest can unit-test them, loaded here
// through tsx (already installed for the CLI's bin) since Node 20 cannot run TypeScript itself.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE_EXTENSIONS = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/;
// Installed or generated, never written by us: nothing in them is this package's own import.
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);

function usage(exitCode) {
  process.stdout.write(
    'usage: node scripts/check-imports.mjs [--json] [--root DIR]\n' +
      '  --json      print {ok, count, counts, violations} for machines\n' +
      '  --root DIR  check the workspace at DIR instead of this repository\n',
  );
  process.exit(exitCode);
}

function parseArgs(argv) {
  const options = { json: false, root: join(here, '..') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') options.json = true;
    else if (arg === '--root' && argv[i + 1] !== undefined) options.root = argv[++i];
    else if (arg === '--help' || arg === '-h') usage(0);
    else {
      process.stderr.write(`check-imports: unknown argument ${arg}\n`);
      usage(2);
    }
  }
  return options;
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const toPosix = (path) => path.split(sep).join('/');

// npm's "workspaces" as this repo writes them: `dir/*` or a plain folder. Anything else is refused
// rather than silently checking fewer packages.
function workspaceDirs(root, patterns) {
  const dirs = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('/*') && !pattern.slice(0, -2).includes('*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        const dir = join(parent, entry.name);
        if (entry.isDirectory() && existsSync(join(dir, 'package.json'))) dirs.push(dir);
      }
    } else if (!pattern.includes('*')) {
      if (existsSync(join(root, pattern, 'package.json'))) dirs.push(join(root, pattern));
    } else {
      throw new Error(`check-imports: unsupported workspaces pattern ${pattern}`);
    }
  }
  return dirs.sort();
}

// A small recursive walk: Node 20 has no fs.globSync. Dot folders (.turbo, .local) hold tool state.
function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.isFile() && SOURCE_EXTENSIONS.test(entry.name)) files.push(path);
  }
  return files;
}

// The commands a dependency installs, so `"typecheck": "tsc -p …"` counts as using typescript.
function binsOf(name, searchDirs) {
  for (const dir of searchDirs) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (!existsSync(manifest)) continue;
    const { bin } = readJson(manifest);
    if (typeof bin === 'string') return [name.replace(/^@[^/]+\//, '')];
    return bin !== null && typeof bin === 'object' ? Object.keys(bin) : [];
  }
  return [];
}

function loadWorkspace(root) {
  const rootManifest = readJson(join(root, 'package.json'));
  const dependencyBins = {};
  const packages = workspaceDirs(root, rootManifest.workspaces ?? []).map((dir) => {
    const manifestText = readFileSync(join(dir, 'package.json'), 'utf8');
    const manifest = JSON.parse(manifestText);
    const dependencies = Object.keys(manifest.dependencies ?? {});
    for (const dep of dependencies) dependencyBins[dep] ??= binsOf(dep, [dir, root]);
    return {
      name: manifest.name,
      dir: toPosix(relative(root, dir)),
      manifest: manifestText,
      dependencies,
      devDependencies: Object.keys(manifest.devDependencies ?? {}),
      peerDependencies: Object.keys(manifest.peerDependencies ?? {}),
      scripts: Object.values(manifest.scripts ?? {}),
      files: sourceFiles(dir).map((path) => ({
        path: toPosix(relative(root, path)),
        source: readFileSync(path, 'utf8'),
      })),
    };
  });
  return {
    rootDependencies: [
      ...Object.keys(rootManifest.dependencies ?? {}),
      ...Object.keys(rootManifest.devDependencies ?? {}),
    ],
    packages,
    dependencyBins,
  };
}

const options = parseArgs(process.argv.slice(2));
// tsImport scopes tsx's loader to this one import instead of registering it for the whole process.
const core = await tsImport(
  pathToFileURL(join(here, '..', 'packages', 'testing', 'src', 'check-imports-core.ts')).href,
  import.meta.url,
);
const violations = core.findViolations(loadWorkspace(options.root));
const counts = core.countByRule(violations);

if (options.json) {
  process.stdout.write(
    `${JSON.stringify({ ok: violations.length === 0, count: violations.length, counts, violations }, null, 2)}\n`,
  );
} else {
  for (const v of violations) process.stdout.write(`${core.formatViolation(v)}\n`);
  const byRule = Object.entries(counts)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ');
  process.stdout.write(
    violations.length === 0
      ? 'check-imports: no violations\n'
      : `check-imports: ${violations.length} violation(s) — ${byRule}\n`,
  );
}
// exitCode, not exit(): exit() would cut off output still queued for a pipe (`--json | jq`).
process.exitCode = violations.length === 0 ? 0 : 1;
