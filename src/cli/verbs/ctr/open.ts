import { ErrorCode, GroveError } from '../../../core/errors.js';
import type { CliContext } from '../../context.js';
import { openLocalRuntime, type LocalRuntime } from '../../local-runtime.js';

/** Opens the local runtime for a ctr verb, honouring `ctr --runtime`. */
export function openRuntime(ctx: CliContext, options: Record<string, unknown>): Promise<LocalRuntime> {
  const runtime = options.runtime as string | undefined;
  if (runtime !== undefined && runtime !== 'auto' && runtime !== 'crun' && runtime !== 'runc') {
    throw new GroveError(ErrorCode.InvalidArgument, `--runtime: "${runtime}" is not one of auto, crun, runc`);
  }
  return openLocalRuntime({ dataDir: ctx.dataDir, logger: ctx.logger, env: ctx.io.env, ...(runtime ? { runtime } : {}) });
}
