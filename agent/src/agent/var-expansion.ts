/**
 * PURE: Kubernetes' `$(VAR)` expansion of one container, done by the agent when it starts the
 * container (the client keeps `$(VAR)` as written, as kubectl does). As the kubelet does it:
 *
 * - env values, in list order, expand against the envFrom variables and the env entries before
 *   them (a value read from a ConfigMap or Secret is taken as it is, never expanded);
 * - command and args expand against the container's final variables;
 * - `$$` is a literal `$`, and a reference to a variable that is not defined stays as written.
 *
 * Grove keeps Secret values off the node's disk: a variable whose value took in a Secret's is a
 * Secret variable itself (the runtime's secretEnv), and a command or args reference to one is
 * refused — the command line is stored on disk (OCI config, container record).
 */
import { ErrorCode, GroveError } from '../../../src/core/errors.js';
import { expandK8sVars } from '../../../src/core/manifests/k8s-expand.js';

/** A variable's value, and whether any of it came from a Secret. */
export interface EnvValue {
  value: string;
  secret: boolean;
}

/** `text` expanded against `vars`: a Secret variable it references makes the result secret too. */
export function expandVars(text: string, vars: ReadonlyMap<string, EnvValue>): EnvValue {
  let secret = false;
  const value = expandK8sVars(text, {
    get(name) {
      const v = vars.get(name);
      if (v?.secret) secret = true;
      return v?.value;
    },
  });
  return { value, secret };
}

/**
 * A command or args list expanded against the container's variables. `field` names it in the
 * error ("command", "args") when an entry references a Secret variable.
 */
export function expandArgv(argv: readonly string[], vars: ReadonlyMap<string, EnvValue>, container: string, field: 'command' | 'args'): string[] {
  return argv.map((text, i) => {
    const r = expandVars(text, vars);
    if (r.secret) {
      throw new GroveError(
        ErrorCode.InvalidArgument,
        `container ${container}: ${field}[${i}] references a variable from a Secret; Grove keeps Secret values off the node's disk, where the command line is stored: read the variable in the process instead (sh -c '... "$NAME"')`,
        { details: { container, field, index: i } },
      );
    }
    return r.value;
  });
}
