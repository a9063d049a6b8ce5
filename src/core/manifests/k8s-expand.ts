/**
 * Kubernetes `$(VAR)` expansion in env values, command and args (k8s third_party/forked/golang/
 * expansion): a manifest that relies on it must run the same under Grove. The client keeps
 * `$(VAR)` as written (as kubectl does); the agent expands when it starts a container
 * (agent/src/agent/var-expansion.ts), against the container's resolved variables.
 */

/** What expansion reads variables from: a Map fits. */
export interface VarLookup {
  get(name: string): string | undefined;
}

/**
 * `$(NAME)` becomes NAME's value when `vars` has it and stays as written otherwise; `$$` is a
 * literal `$`; any other `$` is kept.
 */
export function expandK8sVars(input: string, vars: VarLookup): string {
  if (!input.includes('$')) return input;
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        // An unclosed reference is kept as text, as Kubernetes does.
        out += '$(';
        i += 2;
        continue;
      }
      const name = input.slice(i + 2, close);
      out += vars.get(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += '$' + next;
      i += 2;
    }
  }
  return out;
}

/**
 * The text that expands back to `text` whatever the variables: every `$` that expansion would
 * read as an operator (before `$` or `(`) is doubled, any other `$` is left alone. For values
 * that were expanded already — 0.1 expanded in the client and stored the result — so the
 * agent's expansion gives a migrated container exactly what 0.1 gave it.
 */
export function escapeK8sVars(text: string): string {
  return text.includes('$') ? text.replace(/\$(?=[$(])/g, '$$$$') : text;
}
