/**
 * Kubernetes `$(VAR)` expansion in env values, command and args (k8s third_party/forked/golang/
 * expansion): a manifest that relies on it must run the same under Grove. The variables are
 * the container's own env entries, all literal values, so the expansion is done once, here.
 */

/**
 * `$(NAME)` becomes NAME's value when `vars` has it and stays as written otherwise; `$$` is a
 * literal `$`; any other `$` is kept.
 */
export function expandK8sVars(input: string, vars: ReadonlyMap<string, string>): string {
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
