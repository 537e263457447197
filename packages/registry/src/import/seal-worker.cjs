// Worker thread entry of the bulk import's sealing pool: TypeScript through tsx, like the CLI.
'use strict';
require('tsx/cjs');
require('./seal-worker-main.ts');
