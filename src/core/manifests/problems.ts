/**
 * Every problem of a set of manifests, as data: the client prints one line each and sends
 * nothing while there is any. A problem is what `manifestError` (location.ts) would have thrown;
 * the translators that still throw at their first problem are run through `collect`, which
 * turns that error into a problem and lets the caller go on with the next document or service.
 */
import { ErrorCode, GroveError, isGroveError } from '../errors.js';

export interface ManifestProblem {
  /** The whole line: `deploy.yaml:14 (document 2, Deployment "web"): spec.replicas: …`. */
  text: string;
  file: string;
  document?: number;
  line?: number;
  /** `Deployment "web"`, `service "db"`. */
  resource?: string;
  /** `spec.template.spec.containers[0].image`. */
  path?: string;
}

/** A ManifestInvalid error as a problem (its message is already the one line). */
export function problemOf(err: GroveError): ManifestProblem {
  const d = err.details as { file?: unknown; document?: unknown; line?: unknown; resource?: unknown; path?: unknown };
  return {
    text: err.message,
    file: typeof d.file === 'string' ? d.file : '',
    ...(typeof d.document === 'number' ? { document: d.document } : {}),
    ...(typeof d.line === 'number' ? { line: d.line } : {}),
    ...(typeof d.resource === 'string' ? { resource: d.resource } : {}),
    ...(typeof d.path === 'string' ? { path: d.path } : {}),
  };
}

/**
 * Runs `translate`; a ManifestInvalid error it throws becomes a problem in `problems` and the
 * result is undefined. Any other error is a bug and propagates.
 */
export function collect<T>(problems: ManifestProblem[], translate: () => T): T | undefined {
  try {
    return translate();
  } catch (err) {
    if (isGroveError(err) && err.code === ErrorCode.ManifestInvalid) {
      problems.push(problemOf(err));
      return undefined;
    }
    throw err;
  }
}

/** Problems in the order a reader meets them: by file (as given), document, then line. */
export function sortProblems(problems: readonly ManifestProblem[], files: readonly string[]): ManifestProblem[] {
  const fileOrder = (f: string) => {
    const i = files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => fileOrder(a.p.file) - fileOrder(b.p.file) || (a.p.document ?? 0) - (b.p.document ?? 0) || (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

/**
 * One ManifestInvalid error for all `problems`: its message is their lines, one per problem
 * (what the CLI prints), its details the problems themselves.
 */
export function problemsError(problems: readonly ManifestProblem[]): GroveError {
  if (problems.length === 0) throw new Error('problemsError needs at least one problem');
  return new GroveError(ErrorCode.ManifestInvalid, problems.map((p) => p.text).join('\n'), { details: { problems: problems.map((p) => ({ ...p })) } });
}
