import {
  fileRole,
  findViolations,
  formatViolation,
  packageOf,
  parseSpecifiers,
  type SourceFile,
  type Violation,
  type Workspace,
  type WorkspacePackage,
} from './check-imports-core';

type PackageSpec = {
  dependencies?: string[];
  devDependencies?: string[];
  scripts?: string[];
  // Package-relative path → source.
  files?: Record<string, string>;
};

function pkg(name: string, dir: string, spec: PackageSpec = {}): WorkspacePackage {
  const files: SourceFile[] = Object.entries(spec.files ?? {}).map(([path, source]) => ({
    path: `${dir}/${path}`,
    source,
  }));
  return {
    name,
    dir,
    dependencies: spec.dependencies ?? [],
    devDependencies: spec.devDependencies ?? [],
    peerDependencies: [],
    scripts: spec.scripts ?? [],
    files,
  };
}

// A small workspace that follows every rule: each case below breaks exactly one thing in it.
function cleanWorkspace(): WorkspacePackage[] {
  return [
    pkg('@boarding/contracts', 'packages/contracts', {
      dependencies: ['zod'],
      files: {
        'src/tap.ts': "import { z } from 'zod';\nexport const Tap = z.object({});\n",
        'src/tap.test.ts': "import fc from 'fast-check';\nimport { Tap } from './tap';\n",
      },
    }),
    pkg('@boarding/db', 'packages/db', {
      dependencies: ['pg', '@boarding/contracts', '@types/pg-cursor'],
      files: {
        'src/client.ts': "import type { Pool } from 'pg';\nimport { Tap } from '@boarding/contracts/tap';\n",
        'drizzle.config.ts': "import { defineConfig } from 'drizzle-kit';\n",
      },
    }),
    pkg('@boarding/registry', 'packages/registry', {
      dependencies: ['@boarding/db', '@boarding/contracts'],
      devDependencies: ['@boarding/testing'],
      files: {
        'src/match-card.ts':
          "import { Tap } from '@boarding/contracts/tap';\nexport * from '@boarding/db/client';\n",
        'src/match-card.int.test.ts': "import { createTestDatabase } from '@boarding/testing/database';\n",
      },
    }),
    pkg('@boarding/ingest-service', 'services/ingest', {
      dependencies: ['@boarding/registry', 'typescript'],
      scripts: ['tsc -p tsconfig.json'],
      files: { 'src/main.ts': "import { matchCard } from '@boarding/registry/match-card';\n" },
    }),
    pkg('@boarding/exporter-service', 'services/exporter', {
      dependencies: ['@boarding/db'],
      files: { 'src/main.ts': "import { db } from '@boarding/db/client';\n" },
    }),
    pkg('@boarding/cli', 'packages/cli', {
      dependencies: ['@boarding/ingest-service', '@boarding/exporter-service', 'tsx'],
      files: {
        'bin/boarding.cjs': "require('tsx/cjs');\nrequire('../src/main.ts');\n",
        'src/commands/serve.ts':
          "import { main as a } from '@boarding/ingest-service/main';\nimport { main as b } from '@boarding/exporter-service/main';\n",
      },
    }),
    pkg('@boarding/testing', 'packages/testing', {
      dependencies: ['@boarding/db'],
      files: { 'src/database.ts': "import { db } from '@boarding/db/client';\n" },
    }),
  ];
}

function workspace(packages: WorkspacePackage[]): Workspace {
  return {
    rootDependencies: ['fast-check', 'drizzle-kit', 'jest'],
    packages,
    dependencyBins: { typescript: ['tsc', 'tsserver'] },
  };
}

// The clean workspace with one package changed.
function withPackage(name: string, change: (p: WorkspacePackage) => WorkspacePackage): Workspace {
  return workspace(cleanWorkspace().map((p) => (p.name === name ? change(p) : p)));
}

function addFile(p: WorkspacePackage, path: string, source: string): WorkspacePackage {
  return { ...p, files: [...p.files, { path: `${p.dir}/${path}`, source }] };
}

const brief = (vs: Violation[]) => vs.map((v) => `${v.rule} ${v.package} ${v.file}:${v.line} ${v.target}`);

describe('parseSpecifiers', () => {
  it('finds every import form with the line of its keyword', () => {
    const source = [
      "import a from 'default-import';", // 1
      'import {', // 2
      '  b,',
      '  type C,',
      "} from '@scope/named/sub';", // 5
      "import type { D } from 'type-only';", // 6
      "import * as e from 'namespace';", // 7
      "import f, { g } from 'default-and-named';", // 8
      "import 'side-effect';", // 9
      "export * from 're-export-all';", // 10
      "export { h } from 're-export-named';", // 11
      "export type { I } from 're-export-type';", // 12
      "export * as j from 're-export-namespace';", // 13
      "const k = await import('dynamic');", // 14
      "type L = import('type-position').Pool;", // 15
      "const m = require('required');", // 16
      "const n = require.resolve('resolved/cjs');", // 17
      "import o = require('ts-import-equals');", // 18
      "import type from 'default-named-type';", // 19
    ].join('\n');
    expect(parseSpecifiers(source).map((r) => [r.line, r.specifier, r.kind, r.typeOnly])).toEqual([
      [1, 'default-import', 'import', false],
      [2, '@scope/named/sub', 'import', false],
      [6, 'type-only', 'import', true],
      [7, 'namespace', 'import', false],
      [8, 'default-and-named', 'import', false],
      [9, 'side-effect', 'import', false],
      [10, 're-export-all', 'export', false],
      [11, 're-export-named', 'export', false],
      [12, 're-export-type', 'export', true],
      [13, 're-export-namespace', 'export', false],
      [14, 'dynamic', 'dynamic-import', false],
      [15, 'type-position', 'dynamic-import', false],
      [16, 'required', 'require', false],
      [17, 'resolved/cjs', 'require-resolve', false],
      [18, 'ts-import-equals', 'require', false],
      [19, 'default-named-type', 'import', false],
    ]);
  });

  it('ignores imports written in comments, strings, templates and regular expressions', () => {
    const source = [
      '#!/usr/bin/env node',
      "// import a from 'line-comment';",
      "/* import b from 'block-comment';",
      "   require('block-comment-2') */",
      'const s = "import c from \'in-string\'";',
      // A source line holding a template literal with a placeholder (`$` + `{` keeps it a plain string).
      "const t = `import d from 'in-template' $" + "{require('in-expression')} require('after-expression')`;",
      "const r = /import e from 'in-regex'/g;",
      "const q = x / 2; const w = y / 3; import f from 'after-division';",
      "obj.require('member-call'); const meta = import.meta.url; jest.mock('mocked');",
      "const o = { import: 'key', require: 'key' };",
    ].join('\n');
    expect(parseSpecifiers(source).map((r) => `${r.line}:${r.specifier}`)).toEqual([
      '6:in-expression',
      '8:after-division',
    ]);
  });
});

describe('packageOf', () => {
  it.each([
    ['@boarding/db/bulk/tap-store', '@boarding/db'],
    ['@types/pg', '@types/pg'],
    ['drizzle-orm/pg-core', 'drizzle-orm'],
    ['tsx/cjs', 'tsx'],
    ['pg', 'pg'],
  ])('%s belongs to %s', (specifier, name) => {
    expect(packageOf(specifier)).toBe(name);
  });

  it.each([
    './tap',
    '../src/main.ts',
    '/abs/path',
    'node:fs',
    'node:test',
    'fs',
    'fs/promises',
    'worker_threads',
    '#internal',
    'data:text/javascript,1',
    '@scope',
  ])('%s is no package', (specifier) => {
    expect(packageOf(specifier)).toBeNull();
  });
});

describe('fileRole', () => {
  it.each([
    'src/tap.test.ts',
    'src/tap.int.test.ts',
    'src/ingest-crash.disruptive.test.ts',
    'src/exporter.test-helpers.ts',
    'src/testing/run-command.ts',
    'src/global-setup.ts',
    'drizzle.config.ts',
  ])('%s is a dev file', (path) => {
    expect(fileRole(path)).toBe('dev');
  });

  it.each(['src/tap.ts', 'bin/boarding.cjs', 'src/commands/serve.ts', 'src/schema/config.ts'])(
    '%s is a product file',
    (path) => {
      expect(fileRole(path)).toBe('product');
    },
  );
});

describe('findViolations', () => {
  it('reports nothing for a workspace that follows every rule', () => {
    expect(findViolations(workspace(cleanWorkspace()))).toEqual([]);
  });

  it('reports a product import of a package that is not declared', () => {
    const ws = withPackage('@boarding/db', (p) =>
      addFile(p, 'src/bulk.ts', "import { to } from 'pg-copy-streams';\n"),
    );
    expect(brief(findViolations(ws))).toEqual([
      'undeclared @boarding/db packages/db/src/bulk.ts:1 pg-copy-streams',
    ]);
  });

  it('reports a type-only import like any other', () => {
    const ws = withPackage('@boarding/db', (p) =>
      addFile(p, 'src/types.ts', "import type { Cursor } from 'pg-cursor';\n"),
    );
    expect(brief(findViolations(ws))).toEqual([
      'undeclared @boarding/db packages/db/src/types.ts:1 pg-cursor',
    ]);
  });

  it('reports a product file using a devDependency, and lets a test helper use it', () => {
    const ws = withPackage('@boarding/registry', (p) =>
      addFile(
        addFile(p, 'src/fixture.ts', "import { keyring } from '@boarding/testing/keyring';\n"),
        'src/fixture.test-helpers.ts',
        "import { keyring } from '@boarding/testing/keyring';\n",
      ),
    );
    expect(brief(findViolations(ws))).toEqual([
      'dev-dependency-in-product @boarding/registry packages/registry/src/fixture.ts:1 @boarding/testing/keyring',
      'test-tooling-in-product @boarding/registry packages/registry/src/fixture.ts:1 @boarding/testing/keyring',
    ]);
  });

  it("lets tests use the root's shared test tooling but not a product file", () => {
    const ws = withPackage('@boarding/db', (p) =>
      addFile(
        addFile(p, 'src/client.test.ts', "import fc from 'fast-check';\n"),
        'src/gen.ts',
        "import fc from 'fast-check';\n",
      ),
    );
    const found = findViolations(ws);
    expect(brief(found)).toEqual(['undeclared @boarding/db packages/db/src/gen.ts:1 fast-check']);
    expect(found[0]?.message).toContain('only the root declares it');
  });

  it('reports an undeclared import from a test when neither the package nor the root declares it', () => {
    const ws = withPackage('@boarding/contracts', (p) =>
      addFile(p, 'src/tap.int.test.ts', "import { Pool } from 'pg';\n"),
    );
    expect(brief(findViolations(ws))).toEqual([
      'undeclared @boarding/contracts packages/contracts/src/tap.int.test.ts:1 pg',
    ]);
  });

  it('reports a dependency nothing imports, on its package.json line', () => {
    const ws = withPackage('@boarding/contracts', (p) => ({
      ...p,
      dependencies: [...p.dependencies, 'lodash'],
      manifest:
        '{\n  "name": "@boarding/contracts",\n  "dependencies": {\n    "zod": "4",\n    "lodash": "4"\n  }\n}\n',
    }));
    const found = findViolations(ws);
    expect(brief(found)).toEqual([
      'unused-dependency @boarding/contracts packages/contracts/package.json:5 lodash',
    ]);
    expect(formatViolation(found[0] as Violation)).toBe(
      '@boarding/contracts: packages/contracts/package.json:5 declares lodash — unused-dependency: declared in dependencies but no file imports it and no script runs it',
    );
  });

  it('counts a dependency a script runs through its command as used', () => {
    const ws = withPackage('@boarding/ingest-service', (p) => ({ ...p, scripts: ['echo nothing'] }));
    expect(brief(findViolations(ws))).toEqual([
      'unused-dependency @boarding/ingest-service services/ingest/package.json:1 typescript',
    ]);
  });

  it('reports a domain package importing a service', () => {
    const ws = withPackage('@boarding/registry', (p) => ({
      ...addFile(p, 'src/env.ts', "import { IngestEnv } from '@boarding/ingest-service/env';\n"),
      dependencies: [...p.dependencies, '@boarding/ingest-service'],
    }));
    const found = findViolations(ws);
    expect(brief(found)).toEqual([
      'cycle @boarding/ingest-service services/ingest/src/main.ts:1 @boarding/registry/match-card',
      'cycle @boarding/registry packages/registry/src/env.ts:1 @boarding/ingest-service/env',
      'layering @boarding/registry packages/registry/src/env.ts:1 @boarding/ingest-service/env',
    ]);
    expect(found.find((v) => v.rule === 'layering')?.message).toBe(
      'domain (layer 2) may not import entry points (layer 4)',
    );
    expect(found.find((v) => v.rule === 'cycle')?.message).toBe(
      'package cycle @boarding/ingest-service → @boarding/registry → @boarding/ingest-service',
    );
  });

  it('reports a product file importing the test tooling', () => {
    const ws = withPackage('@boarding/exporter-service', (p) => ({
      ...addFile(p, 'src/jobs/seed.ts', "import { createTestDatabase } from '@boarding/testing/database';\n"),
      dependencies: [...p.dependencies, '@boarding/testing'],
    }));
    expect(brief(findViolations(ws))).toEqual([
      'test-tooling-in-product @boarding/exporter-service services/exporter/src/jobs/seed.ts:1 @boarding/testing/database',
    ]);
  });

  it('reports a service importing another service', () => {
    const ws = withPackage('@boarding/exporter-service', (p) => ({
      ...addFile(p, 'src/ingest.ts', "import { IngestEnv } from '@boarding/ingest-service/env';\n"),
      dependencies: [...p.dependencies, '@boarding/ingest-service'],
    }));
    expect(brief(findViolations(ws))).toEqual([
      'service-imports-service @boarding/exporter-service services/exporter/src/ingest.ts:1 @boarding/ingest-service/env',
    ]);
  });

  it('reports the CLI importing a service anywhere but `boarding serve`', () => {
    const ws = withPackage('@boarding/cli', (p) =>
      addFile(p, 'src/commands/ingest.ts', "import { IngestEnv } from '@boarding/ingest-service/env';\n"),
    );
    const found = findViolations(ws);
    expect(brief(found)).toEqual([
      'cli-imports-service @boarding/cli packages/cli/src/commands/ingest.ts:1 @boarding/ingest-service/env',
    ]);
    expect(formatViolation(found[0] as Violation)).toBe(
      '@boarding/cli: packages/cli/src/commands/ingest.ts:1 imports @boarding/ingest-service/env — cli-imports-service: the CLI reaches a service only through `boarding serve` (src/commands/serve.ts)',
    );
  });

  it('reports a lower layer importing a higher one', () => {
    const ws = withPackage('@boarding/contracts', (p) => ({
      ...addFile(p, 'src/row.ts', "import type { Db } from '@boarding/db/client';\n"),
      dependencies: [...p.dependencies, '@boarding/db'],
    }));
    expect(brief(findViolations(ws))).toEqual([
      'cycle @boarding/contracts packages/contracts/src/row.ts:1 @boarding/db/client',
      'layering @boarding/contracts packages/contracts/src/row.ts:1 @boarding/db/client',
      'cycle @boarding/db packages/db/src/client.ts:2 @boarding/contracts/tap',
    ]);
  });

  it('reports a cycle closed by a test import, which turbo refuses as well', () => {
    const ws = withPackage('@boarding/db', (p) => ({
      ...addFile(p, 'src/client.int.test.ts', "import { db } from '@boarding/testing/database';\n"),
      devDependencies: ['@boarding/testing'],
    }));
    expect(brief(findViolations(ws))).toEqual([
      'cycle @boarding/db packages/db/src/client.int.test.ts:1 @boarding/testing/database',
      'cycle @boarding/testing packages/testing/src/database.ts:1 @boarding/db/client',
    ]);
  });

  it('reports a relative import that leaves its package', () => {
    const ws = withPackage('@boarding/db', (p) =>
      addFile(
        p,
        'src/tap.ts',
        "import { Tap } from '../../contracts/src/tap';\nimport { x } from '../drizzle.config';\n",
      ),
    );
    expect(brief(findViolations(ws))).toEqual([
      'outside-package @boarding/db packages/db/src/tap.ts:1 ../../contracts/src/tap',
    ]);
  });

  it('reports a workspace package missing from the layer table', () => {
    const ws = workspace([...cleanWorkspace(), pkg('@boarding/utils', 'packages/utils')]);
    expect(brief(findViolations(ws))).toEqual([
      'unlisted-package @boarding/utils packages/utils/package.json:1 @boarding/utils',
    ]);
  });
});
