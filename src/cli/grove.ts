#!/usr/bin/env node
// The `grove` executable: everything else is importable without side effects.
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
