#!/usr/bin/env node
// The `grove` executable: everything else is importable without side effects.
import { endQuietlyWhenOutputCloses } from './closed-output.js';
import { main } from './program.js';

endQuietlyWhenOutputCloses(process);
process.exitCode = await main(process.argv.slice(2));
