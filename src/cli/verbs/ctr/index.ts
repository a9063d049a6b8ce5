import { Command } from 'commander';
import { RUNTIME_OPTIONS } from '../../config/role-options.js';
import type { Act } from '../../verb.js';
import { registerImages } from './images.js';
import { registerImport } from './import.js';
import { registerInspect } from './inspect.js';
import { registerLogs } from './logs.js';
import { registerPrune } from './prune.js';
import { registerPs } from './ps.js';
import { registerPull } from './pull.js';
import { registerRm } from './rm.js';
import { registerRmi } from './rmi.js';
import { registerRun } from './run.js';
import { registerStop } from './stop.js';
import { registerVolume } from './volume.js';

/** `grove ctr …`: the node's local runtime, docker-style, usable without any server. */
export function registerCtr(program: Command, act: Act): void {
  const ctr = act.options(
    program
      .command('ctr')
      .description('drive the local container runtime directly (docker-style), no server needed')
      .enablePositionalOptions()
      .helpCommand('help [verb]', 'show help for a ctr verb'),
    RUNTIME_OPTIONS,
  );
  for (const register of [registerPull, registerImages, registerImport, registerRmi, registerPrune, registerRun, registerPs, registerLogs, registerStop, registerRm, registerInspect, registerVolume]) {
    register(ctr, act);
  }
}
