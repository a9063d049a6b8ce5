import type { Command } from 'commander';
import type { Act } from '../../verb.js';
import { registerApply } from './apply.js';
import { registerCompletion } from './completion.js';
import { registerCompose } from './compose.js';
import { registerCreate } from './create.js';
import { registerKubeVerbs } from './k8s/index.js';
import { registerLogs } from './logs.js';
import { registerExec } from './exec.js';
import { registerNode } from './node.js';
import { registerRollout } from './rollout.js';
import { registerToken } from './token.js';
import { registerUser } from './user.js';
import { registerKubeconfig } from './kubeconfig.js';
import { registerTop } from './top.js';
import { registerVolume } from './volume.js';

/** kubectl-style verbs that talk to a server's HTTP API. */
export function registerClientVerbs(program: Command, act: Act): void {
  registerApply(program, act);
  registerCreate(program, act);
  // get, describe, delete on the Kubernetes paths; delete -f reads files as apply does (loaded lazily: the YAML library).
  // Compose files are read with this shell's environment and the project's .env, as apply reads them (the same names).
  registerKubeVerbs(program, act, async (paths, namespace) =>
    (await import('../../client/read-manifests.js')).loadObjects(paths, undefined, {
      ...(namespace === undefined ? {} : { composeNamespace: namespace }),
      compose: (await import('../../client/compose-host.js')).composeHost({}),
    }),
  );
  for (const register of [registerCompose, registerLogs, registerExec, registerToken, registerUser, registerKubeconfig, registerNode, registerRollout, registerVolume, registerTop]) register(program, act);
  // Last: it describes every verb registered before it (program.ts registers ctr and check after; the script reads the table when it runs).
  registerCompletion(program, act);
}
