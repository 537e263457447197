#!/usr/bin/env node
// The `boarding-bench` command. Workspace packages are TypeScript sources run through tsx's loader.
'use strict';
require('tsx/cjs');
require('../src/main.ts');
