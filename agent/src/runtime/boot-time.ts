import { readFile } from 'node:fs/promises';

/**
 * When this host booted (`btime` of /proc/stat), or undefined when unknown. A container whose
 * shim vanished and that started before this time died in a reboot, so it ended no later than
 * the boot. The value is the wall clock at reading minus the uptime: on a board without a
 * real-time clock that boots with a wrong time it is wrong too, and then simply earlier or later
 * than the recorded start, which only decides whether the boot time is used at all.
 */
export async function readBootTime(statFile = '/proc/stat'): Promise<Date | undefined> {
  const text = await readFile(statFile, 'utf8').catch(() => '');
  const match = /^btime (\d+)$/m.exec(text);
  return match ? new Date(Number(match[1]) * 1000) : undefined;
}
