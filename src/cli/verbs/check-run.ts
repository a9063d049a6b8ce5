import { ErrorCode, GroveError } from '../../core/errors.js';
import { findCmdline, fixCmdlineFile } from '../check/cmdline.js';
import { probeHost } from '../check/host-probe.js';
import { evaluatePreflight, preflightFailed, type CheckResult } from '../check/preflight.js';
import type { CliContext } from '../context.js';
import { writeLine } from '../io.js';
import type { Values } from '../config/option.js';
import type { CHECK_OPTIONS } from './check.js';

const MARK: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export async function runCheck(ctx: CliContext, o: Values<typeof CHECK_OPTIONS>): Promise<number> {
  if (o.fixCgroups) return fixCgroups(ctx, o);
  if (o.cmdline !== undefined) throw new GroveError(ErrorCode.InvalidArgument, '--cmdline goes with --fix-cgroups');
  const results = evaluatePreflight(await probeHost({ dataDir: ctx.dataDir, runtime: o.runtime, searchPath: ctx.host.searchPath, logger: ctx.logger }));
  const failed = preflightFailed(results);
  if (o.json) {
    writeLine(ctx.io.stdout, JSON.stringify({ ok: !failed, checks: results }, null, 2));
  } else {
    for (const r of results) {
      writeLine(ctx.io.stdout, `${MARK[r.status]}  ${r.name.padEnd(12)} ${r.detail}`);
      if (r.fix && r.status !== 'ok') writeLine(ctx.io.stdout, `      ${''.padEnd(12)} fix: ${r.fix}`);
    }
    const warnings = results.filter((r) => r.status === 'warn').length;
    writeLine(ctx.io.stdout, failed ? `\nnot ready: ${results.filter((r) => r.status === 'fail').length} check(s) failed` : `\nready${warnings ? ` (${warnings} warning(s))` : ''}`);
  }
  return failed ? 1 : 0;
}

async function fixCgroups(ctx: CliContext, o: Values<typeof CHECK_OPTIONS>): Promise<number> {
  const path = o.cmdline ?? findCmdline();
  if (!path) {
    throw new GroveError(ErrorCode.ConfigInvalid, 'no cmdline.txt at /boot/firmware/cmdline.txt or /boot/cmdline.txt: pass --cmdline PATH, or add cgroup_enable=memory cgroup_memory=1 to your bootloader\'s kernel command line');
  }
  const result = await fixCmdlineFile(path);
  if (o.json) {
    writeLine(ctx.io.stdout, JSON.stringify({ ...result, rebootNeeded: result.changed }, null, 2));
  } else if (result.changed) {
    writeLine(ctx.io.stdout, `${path}: memory cgroup enabled (original saved as ${result.backup})`);
    writeLine(ctx.io.stdout, 'reboot needed: sudo reboot');
  } else {
    writeLine(ctx.io.stdout, `${path}: unchanged (the memory cgroup is already enabled there; reboot if the check still fails)`);
  }
  return 0;
}
