import type { Command } from 'commander';
import { onOff, option } from '../config/option.js';
import { RUNTIME_OPTIONS } from '../config/role-options.js';
import { path } from '../config/units.js';
import type { Act } from '../verb.js';

export const CHECK_OPTIONS = {
  json: onOff({ description: 'print the results as JSON' }),
  fixCgroups: onOff({ description: 'enable the memory cgroup in the boot cmdline.txt (Raspberry Pi), then reboot' }),
  cmdline: option({ unit: path, description: 'cmdline.txt to fix (default /boot/firmware/cmdline.txt, else /boot/cmdline.txt)' }),
  runtime: RUNTIME_OPTIONS.runtime,
};

// Registration only: the checks load when the verb runs.
export function registerCheck(program: Command, act: Act): void {
  act(
    program.command('check').description('preflight: is this host ready to run Grove? (kernel, cgroups, OCI runtime, overlayfs, CNI, disk, clock)'),
    CHECK_OPTIONS,
    async (ctx, _args, options) => (await import('./check-run.js')).runCheck(ctx, options),
  );
}
