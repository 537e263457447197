// Worker thread entry of the day file's decryption: TypeScript through tsx, like the CLI. Not named
// decrypt-worker.cjs: a resolver trying .cjs before .ts (jest's) would load it for './decrypt-worker'.
'use strict';
require('tsx/cjs');
require('./decrypt-worker-main.ts');
