#!/usr/bin/env node
// The stau command. The CLI is compiled to dist/ by `npm run build` (run on `npm ci`).
import("../dist/cli/main.js").then((cli) => cli.main(process.argv));
