/**
 * `grove completion bash|zsh`: the script made from the real command table, run by bash with
 * COMP_WORDS as the shell sets them; object names come from a stand-in `grove` on PATH that
 * records how it was asked (`grove get TYPE -o name -n NS`, as kubectl's completion asks kubectl).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { buildProgram } from '../../src/cli/program.js';
import { commandInfos, completionScript } from '../../src/cli/verbs/client/completion.js';
import { capture } from './cli-k8s-fake-api.js';

const run = promisify(execFile);
let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-completion-'));
  const c = capture();
  const program = await buildProgram(c.io, fixedEnvironment({}), { code: 0 });
  script = completionScript('bash', commandInfos(program));
  await writeFile(join(dir, 'grove.bash'), script);
  // The stand-in: answers `get TYPE -o name` with two objects of TYPE and records its arguments.
  await writeFile(join(dir, 'grove'), `#!/bin/bash\necho "$*" >> "${dir}/calls"\nfor a in "$@"; do case "$a" in get) shift; break;; *) shift;; esac; done\nt="$1"; echo "\${t%%s}/one"; echo "\${t%%s}/two"\n`);
  await chmod(join(dir, 'grove'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What Tab offers after `line` (the last word is the one being completed). */
async function complete(line: string): Promise<string[]> {
  const words = line.split(' ');
  const program = `source ${dir}/grove.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _grove; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run('bash', ['-c', program], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  return stdout.split('\n').filter(Boolean).sort();
}

describe('grove completion bash', () => {
  it('completes verbs and sub-verbs from the command table', async () => {
    expect(await complete('grove ge')).toEqual(['get']);
    expect(await complete('grove node dr')).toEqual(['drain']);
    expect(await complete('grove --data-dir /x rollout s')).toEqual(['status']);
  });

  it('completes a verb\'s flags', async () => {
    expect(await complete('grove get --watch')).toEqual(['--watch', '--watch-only']);
    expect(await complete('grove node drain --ig')).toEqual(['--ignore-daemonsets']);
  });

  it('completes resource types, then names from the server in the namespace on the line', async () => {
    expect(await complete('grove get deploy')).toEqual(['deploy', 'deployments']);
    await rm(join(dir, 'calls'), { force: true });
    expect(await complete('grove --data-dir /d get -n shop pods ')).toEqual(['one', 'two']);
    expect((await readFile(join(dir, 'calls'), 'utf8')).trim()).toBe('--data-dir /d get pods -o name -n shop');
    expect(await complete('grove describe pods/t')).toEqual(['pods/two']);
  });

  it('completes pods for logs, nodes for node verbs, -o formats, and skips flag values', async () => {
    expect(await complete('grove logs ')).toEqual(['pod/one', 'pod/two'].map((n) => n.split('/')[1]!));
    expect(await complete('grove node cordon ')).toEqual(['one', 'two']);
    expect(await complete('grove get pods -o j')).toEqual(['json', 'jsonpath-file=', 'jsonpath=']);
    expect(await complete('grove get -l app=web deploy')).toEqual(['deploy', 'deployments']);
    expect(await complete('grove completion ')).toEqual(['bash', 'zsh']);
  });

  it('zsh gets the same script through bashcompinit; other shells are refused', () => {
    expect(completionScript('zsh', [])).toMatch(/^#compdef grove\nautoload -U \+X bashcompinit && bashcompinit\n/);
    expect(() => completionScript('fish', [])).toThrow('unsupported shell type "fish"');
  });

  it('grove completion bash prints it', async () => {
    const c = capture();
    const exit = { code: 0 };
    await (await buildProgram(c.io, fixedEnvironment({ GROVE_LOG_LEVEL: 'silent' }), exit)).parseAsync(['--data-dir', dir, 'completion', 'bash'], { from: 'user' });
    expect(c.out()).toContain('complete -F _grove grove');
    expect(c.out()).toContain('"node drain") echo');
  });
});
