#!/usr/bin/env node
// `npm run soak -- --minutes N`: the bounded soak of issue 12 (docs/soak.md). Thin entry: the
// harness is TypeScript in packages/bench (src/soak-*.ts), run through tsx's loader like the
// `boarding` and `boarding-bench` bins.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs');
require('../packages/bench/src/soak-main.ts');
