import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGrove } from '../support/grove-cli.js';

/** `grove check` as a user runs it: the report on this host, and the cmdline.txt repair. */
describe('grove check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'grove-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every check as JSON with an exit code that matches', async () => {
    const r = await runGrove(['--data-dir', join(dir, 'data'), 'check', '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['kernel', 'cgroups', 'oci runtime', 'overlayfs', 'cni plugins', 'disk', 'clock']));
    expect(r.code).toBe(report.ok ? 0 : 1);
    for (const c of report.checks) if (c.status === 'fail') expect(c.fix).toBeTruthy();
    const text = await runGrove(['--data-dir', join(dir, 'data'), 'check']);
    expect(text.code).toBe(r.code);
    expect(text.stdout).toMatch(/^(ok|warn|FAIL) +kernel +Linux /m);
  });

  it('--fix-cgroups edits the given cmdline.txt once, backs it up and says to reboot', async () => {
    const file = join(dir, 'cmdline.txt');
    const original = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 cgroup_disable=memory rootwait\n';
    await writeFile(file, original);
    const first = await runGrove(['check', '--fix-cgroups', '--cmdline', file]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('reboot needed');
    expect(await readFile(file, 'utf8')).toBe('console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 rootwait cgroup_enable=memory cgroup_memory=1\n');
    expect(await readFile(file + '.grove-bak', 'utf8')).toBe(original);
    const second = await runGrove(['check', '--fix-cgroups', '--cmdline', file, '--json']);
    expect(JSON.parse(second.stdout)).toEqual({ path: file, changed: false, rebootNeeded: false });
  });

  it('rejects --cmdline without --fix-cgroups, and a missing file, in one line', async () => {
    const r = await runGrove(['check', '--cmdline', '/nonexistent/cmdline.txt']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('grove: --cmdline goes with --fix-cgroups');
    const missing = await runGrove(['check', '--fix-cgroups', '--cmdline', join(dir, 'nope.txt')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/^grove: cannot read .*nope\.txt/);
  });
});
