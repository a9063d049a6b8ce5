/**
 * The kubectl-style read and delete verbs on the server's Kubernetes paths. Not registered yet:
 * they replace get/describe/delete of ../index.ts when the server serves objects (the switch);
 * `loadObjects` is the client's manifest loader (read-manifests.ts loadObjects) for `delete -f`.
 */
import type { Command } from 'commander';
import type { Act } from '../../../verb.js';
import { registerKubeDelete, type LoadObjects } from './delete.js';
import { registerKubeDescribe } from './describe.js';
import { registerKubeGet } from './get.js';
import { registerScale } from './scale.js';

export function registerKubeVerbs(program: Command, act: Act, loadObjects: LoadObjects): void {
  registerKubeGet(program, act);
  registerKubeDescribe(program, act);
  registerKubeDelete(program, act, loadObjects);
  registerScale(program, act);
}
