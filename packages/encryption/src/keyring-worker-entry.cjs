// Worker thread entry of the keyring worker pool: TypeScript through tsx, like the CLI.
'use strict';
require('tsx/cjs');
require('./keyring-worker-main.ts');
