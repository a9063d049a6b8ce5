import type { Command } from 'commander';
import type { Act } from '../../verb.js';
import { registerApply } from './apply.js';
import { registerCreate } from './create.js';
import { registerDelete } from './delete.js';
import { registerDescribe } from './describe.js';
import { registerGet } from './get.js';
import { registerLogs } from './logs.js';
import { registerNode } from './node.js';
import { registerRollout } from './rollout.js';
import { registerToken } from './token.js';
import { registerVolume } from './volume.js';

/** kubectl-style verbs that talk to a server's HTTP API. */
export function registerClientVerbs(program: Command, act: Act): void {
  for (const register of [registerApply, registerCreate, registerGet, registerDescribe, registerDelete, registerLogs, registerToken, registerNode, registerRollout, registerVolume]) register(program, act);
}
