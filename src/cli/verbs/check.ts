import type { Command } from 'commander';
import type { Act } from '../verb.js';

// Registration only: the checks load when the verb runs.
export function registerCheck(program: Command, act: Act): void {
  program
    .command('check')
    .description('preflight: is this host ready to run Grove? (kernel, cgroups, OCI runtime, overlayfs, CNI, disk, clock)')
    .option('--json', 'print the results as JSON')
    .option('--fix-cgroups', 'enable the memory cgroup in the boot cmdline.txt (Raspberry Pi), then reboot')
    .option('--cmdline <path>', 'cmdline.txt to fix (default /boot/firmware/cmdline.txt, else /boot/cmdline.txt)')
    .action(act(async (ctx, _args, options) => (await import('./check-run.js')).runCheck(ctx, options)));
}
