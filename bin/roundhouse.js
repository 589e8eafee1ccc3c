#!/usr/bin/env node
'use strict';
// The compiled CLI; `npm run build` (or `npm start`) produces dist/.
require('../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
