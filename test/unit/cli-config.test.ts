/**
 * One typed configuration per role (src/cli/config): precedence, units, bad values, the YAML
 * config file, --print-config and a file round trip.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knownFileKeys } from '../../src/cli/config/command-config.js';
import { readConfigFile, type ConfigFile } from '../../src/cli/config/config-file.js';
import { fixedEnvironment } from '../../src/cli/config/environment.js';
import { flagText, type OptionTable } from '../../src/cli/config/option.js';
import { fileKey, resolveTable } from '../../src/cli/config/resolve.js';
import { AGENT_OPTIONS, GLOBAL_OPTIONS, SERVER_OPTIONS } from '../../src/cli/config/role-options.js';
import { address, boolean, bytes, count, duration, keyValues, list, nodeAddressOrNone } from '../../src/cli/config/units.js';
import { main } from '../../src/cli/program.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grove-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(text: string, name = 'config.yaml'): Promise<ConfigFile> {
  const path = join(dir, name);
  await writeFile(path, text);
  const file = await readConfigFile(path, true, knownFileKeys());
  if (!file) throw new Error('no file');
  return file;
}

function resolve<T extends OptionTable>(table: T, o: { flags?: Record<string, unknown>; vars?: Record<string, string>; file?: ConfigFile; warnings?: string[] } = {}) {
  return resolveTable(table, { flags: new Map(Object.entries(o.flags ?? {})), env: fixedEnvironment(o.vars ?? {}), ...(o.file ? { file: o.file } : {}) }, o.warnings);
}

function capture(): Writable & { text: string } {
  const out = Object.assign(new Writable({ write: (chunk: Buffer, _e, cb) => ((out.text += chunk.toString()), cb()) }), { text: '' });
  return out;
}

async function grove(args: string[], vars: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await main(['--data-dir', dir, ...args], { stdout, stderr }, fixedEnvironment({ GROVE_LOG_LEVEL: 'silent', GROVE_CONFIG_FILE: join(dir, 'config.yaml'), ...vars }));
  return { code, out: stdout.text, err: stderr.text };
}

describe('precedence: flag > variable > config file > default', () => {
  it('takes each value from the first source that has it, and remembers which', async () => {
    const file = await configFile('restart-backoff: 20s\nheartbeat: 5s\nupdate-lock-max: 2h\n');
    const vars = { GROVE_RESTART_BACKOFF: '30s', GROVE_HEARTBEAT: '7s' };
    const r = resolve(AGENT_OPTIONS, { flags: { restartBackoff: '40s' }, vars, file });
    expect([r.values.restartBackoff, r.values.heartbeat, r.values.updateLockMax, r.values.rootfsMode]).toEqual([40_000, 7000, 7_200_000, 'auto']);
    expect([r.origins.restartBackoff, r.origins.heartbeat, r.origins.updateLockMax, r.origins.rootfsMode]).toEqual([
      { from: 'flag', name: '--restart-backoff' },
      { from: 'env', name: 'GROVE_HEARTBEAT' },
      { from: 'file', path: file.path, key: 'update-lock-max' },
      { from: 'default' },
    ]);
    expect(Object.isFrozen(r.values)).toBe(true);
  });

  it('holds for every option of every role table that has a variable and a file key', async () => {
    for (const table of [GLOBAL_OPTIONS, SERVER_OPTIONS, AGENT_OPTIONS] as OptionTable[]) {
      for (const [key, spec] of Object.entries(table)) {
        if (!spec.env || !spec.file) continue;
        // A value of the option's own unit, written as each source writes it.
        const sample = spec.unit.switch ? [true, 'false', 'true'] : spec.unit.list ? [['x=1'], 'y=2', '[z=3]'] : [undefined, undefined, undefined];
        if (sample[0] === undefined) continue;
        const file = await configFile(`${fileKey(key, spec)}: ${sample[2]}\n`, `${key}.yaml`);
        const all = resolve(table, { flags: { [key]: sample[0] }, vars: { [spec.env]: String(sample[1]) }, file });
        expect(all.origins[key], key).toMatchObject({ from: 'flag' });
        expect(resolve(table, { vars: { [spec.env]: String(sample[1]) }, file }).origins[key], key).toMatchObject({ from: 'env' });
        expect(resolve(table, { file }).origins[key], key).toMatchObject({ from: 'file' });
      }
    }
  });

  it('an empty variable counts as unset', () => {
    expect(resolve(AGENT_OPTIONS, { vars: { GROVE_NODE_NAME: '' } }).origins.nodeName).toEqual({ from: 'default' });
  });

  it('reads a deprecated variable in its old unit, with a warning, and lets the new one win', () => {
    const warnings: string[] = [];
    const old = resolve(AGENT_OPTIONS, { vars: { GROVE_RESTART_BACKOFF_SECONDS: '0.5', GROVE_HEARTBEAT_SECONDS: '2' }, warnings });
    expect([old.values.restartBackoff, old.values.heartbeat]).toEqual([500, 2000]);
    expect(old.origins.heartbeat).toEqual({ from: 'env', name: 'GROVE_HEARTBEAT_SECONDS', deprecated: true });
    expect(warnings).toEqual([
      'GROVE_RESTART_BACKOFF_SECONDS is deprecated and goes away in the next release: set GROVE_RESTART_BACKOFF=10s instead',
      'GROVE_HEARTBEAT_SECONDS is deprecated and goes away in the next release: set GROVE_HEARTBEAT=15s instead',
    ]);
    const both = resolve(AGENT_OPTIONS, { vars: { GROVE_RESTART_BACKOFF_SECONDS: '1', GROVE_RESTART_BACKOFF: '3s' } });
    expect(both.values.restartBackoff).toBe(3000);
    expect(() => resolve(AGENT_OPTIONS, { vars: { GROVE_RESTART_BACKOFF_SECONDS: '-1' } })).toThrow('GROVE_RESTART_BACKOFF_SECONDS: "-1" is not a duration');
  });

  it('computes defaults from the host: data dir, node name, log level', () => {
    const root = resolveTable(GLOBAL_OPTIONS, { flags: new Map(), env: fixedEnvironment({}, { root: true }) });
    expect(root.values.dataDir).toBe('/var/lib/grove');
    const user = resolveTable(GLOBAL_OPTIONS, { flags: new Map(), env: fixedEnvironment({}, { root: false, home: '/home/pi' }) });
    expect(user.values.dataDir).toBe('/home/pi/.local/share/grove');
    expect(resolveTable(GLOBAL_OPTIONS, { flags: new Map(), env: fixedEnvironment({}, { xdgDataHome: '/x' }) }).values.dataDir).toBe('/x/grove');
    expect(resolveTable(AGENT_OPTIONS, { flags: new Map(), env: fixedEnvironment({}, { hostname: 'my_pi.local' }) }).values.nodeName).toBe('my-pi-local');
    expect(resolveTable(GLOBAL_OPTIONS, { flags: new Map(), env: fixedEnvironment(), daemon: true }).values.logLevel).toBe('info');
    expect(resolveTable(GLOBAL_OPTIONS, { flags: new Map([['debug', true]]), env: fixedEnvironment(), daemon: true }).values.logLevel).toBe('debug');
    expect(resolveTable(GLOBAL_OPTIONS, { flags: new Map(), env: fixedEnvironment() }).values.logLevel).toBe('warn');
  });
});

describe('units', () => {
  it('durations take ms, s, m, h, d and combinations; print back the same way', () => {
    expect(['500ms', '90s', '1m30s', '24h', '7d'].map((v) => duration.parse(v, 'x'))).toEqual([500, 90_000, 90_000, 86_400_000, 604_800_000]);
    expect([500, 90_000, 3_600_000].map(duration.format)).toEqual(['500ms', '1m30s', '1h']);
    for (const bad of ['10', '10x', '', '0s', 'soon', 15]) expect(() => duration.parse(bad, '--node-grace'), String(bad)).toThrow(/^--node-grace: .* (is not a duration \(use e\.g\. 500ms, 90s, 30m, 24h\)|must be longer than 0s)$/);
  });

  it('sizes, counts, addresses, booleans and lists', () => {
    expect([bytes.parse('64Mi', 'x'), bytes.parse(4096, 'x'), bytes.parse('1g', 'x')]).toEqual([64 * 1024 ** 2, 4096, 1024 ** 3]);
    expect([bytes.format(64 * 1024 ** 2), bytes.format(1000)]).toEqual(['64Mi', '1000']);
    expect(() => bytes.parse('64q', '--memory')).toThrow('--memory: "64q" is not a size (use e.g. 512k, 32m, 1g, 64Mi)');
    expect(count(1, 10).parse('7', 'x')).toBe(7);
    expect(count(1, 10).parse(7, 'x')).toBe(7);
    for (const bad of ['0', '11', '1.5', '-1', 'many']) expect(() => count(1, 10).parse(bad, '--n'), bad).toThrow(`--n: "${bad}" is not a whole number from 1 to 10`);
    expect(address.parse('0.0.0.0:7080', 'x')).toEqual({ host: '0.0.0.0', port: 7080 });
    expect(address.parse('[::1]:1883', 'x')).toEqual({ host: '::1', port: 1883 });
    expect(address.format({ host: '::1', port: 1883 })).toBe('[::1]:1883');
    for (const bad of ['7080', 'host:99999', 'a b:1']) expect(() => address.parse(bad, '--api-addr'), bad).toThrow(`--api-addr: "${bad}" is not HOST:PORT`);
    expect(['true', 'on', '1', 'yes', 'false', 'off', '0', 'no', true].map((v) => boolean.parse(v, 'x'))).toEqual([true, true, true, true, false, false, false, false, true]);
    expect(() => boolean.parse('maybe', 'GROVE_TLS')).toThrow('GROVE_TLS: "maybe" is not true or false');
    expect(list('dir').parse('/a, /b,,', 'x')).toEqual(['/a', '/b']);
    expect(list('dir').parse(['/a,b'], 'x')).toEqual(['/a,b']);
    expect(keyValues().parse('zone=a, tier=edge', 'GROVE_LABELS')).toEqual({ zone: 'a', tier: 'edge' });
    expect(() => keyValues().parse(['zone'], '--label')).toThrow('--label: "zone" is not key=value');
    expect(() => list('x').parse({ a: 1 }, 'f: k')).toThrow('f: k: {"a":1} is not a list');
  });

  it('the cluster DNS address: a unicast IPv4 pods reach on the node, or none', () => {
    expect(['169.254.20.10', '10.0.0.53', 'none', ''].map((v) => nodeAddressOrNone.parse(v, 'x'))).toEqual(['169.254.20.10', '10.0.0.53', '', '']);
    expect([nodeAddressOrNone.format(''), nodeAddressOrNone.format('169.254.20.10')]).toEqual(['none', '169.254.20.10']);
    expect(() => nodeAddressOrNone.parse('dns.local', '--cluster-dns')).toThrow('--cluster-dns: "dns.local" is not an IPv4 address (or none)');
    for (const bad of ['127.0.0.53', '0.0.0.0', '224.0.0.251']) expect(() => nodeAddressOrNone.parse(bad, '--cluster-dns'), bad).toThrow(/is not a unicast address pods can reach/);
    expect(resolve(AGENT_OPTIONS, {}).values.clusterDns).toBe('169.254.20.10');
    expect(resolve(AGENT_OPTIONS, { vars: { GROVE_CLUSTER_DNS: 'none' } }).values.clusterDns).toBe('');
    expect(resolve(SERVER_OPTIONS, { flags: { clusterDns: '' } }).values.clusterDns).toBe('');
  });

  it('names the flag, the variable or the file key at fault, and the unit', async () => {
    expect(() => resolve(SERVER_OPTIONS, { flags: { nodeGrace: 'soon' } })).toThrow('--node-grace: "soon" is not a duration');
    expect(() => resolve(SERVER_OPTIONS, { vars: { GROVE_NODE_GRACE: 'soon' } })).toThrow('GROVE_NODE_GRACE: "soon" is not a duration');
    const file = await configFile('node-grace: soon\n');
    expect(() => resolve(SERVER_OPTIONS, { file })).toThrow(`${file.path}: node-grace: "soon" is not a duration`);
    expect(() => resolve(SERVER_OPTIONS, { vars: { GROVE_MAX_API_CONNECTIONS: '0' } })).toThrow('GROVE_MAX_API_CONNECTIONS: "0" is not a whole number from 1 to 1000000');
    expect(() => resolve(AGENT_OPTIONS, { vars: { GROVE_RUNTIME: 'docker' } })).toThrow('GROVE_RUNTIME: "docker" is not one of auto, crun, runc');
  });
});

describe('the YAML config file', () => {
  it('refuses unknown keys (with the nearest known one), non-mappings, bad YAML, aliases and big files', async () => {
    await expect(configFile('restart-backof: 10s\n')).rejects.toThrow(/config\.yaml: unknown key "restart-backof" \(did you mean restart-backoff\?\)$/);
    await expect(configFile('- a\n- b\n')).rejects.toThrow('must be a mapping of option names to values');
    await expect(configFile('a: [\n')).rejects.toThrow(/config\.yaml: not valid YAML/);
    await expect(configFile('node-name: &n pi\nlabel: [*n]\n')).rejects.toThrow(/not valid YAML/);
    await expect(configFile(`node-name: ${'x'.repeat(70 * 1024)}\n`)).rejects.toThrow('larger than 64 KiB');
    await expect(configFile('node-name: pi\nnode-name: pj\n')).rejects.toThrow(/not valid YAML/);
  });

  it('is optional where nobody named it; a named one must exist', async () => {
    expect(await readConfigFile(join(dir, 'none.yaml'), false, knownFileKeys())).toBeUndefined();
    await expect(readConfigFile(join(dir, 'none.yaml'), true, knownFileKeys())).rejects.toThrow(`config file ${join(dir, 'none.yaml')}: not found`);
    expect((await configFile('')).values.size).toBe(0);
  });

  it('gives each role its keys and leaves the others to the other roles', async () => {
    const file = await configFile('api-addr: 127.0.0.1:9999\nserver: https://pi:7080\nheartbeat: 3s\ndata-dir: /srv/grove\n');
    expect(resolve(SERVER_OPTIONS, { file }).values.apiAddr).toEqual({ host: '127.0.0.1', port: 9999 });
    expect(resolve(AGENT_OPTIONS, { file }).values.server).toBe('https://pi:7080');
    expect(resolve(GLOBAL_OPTIONS, { file }).values.dataDir).toBe('/srv/grove');
  });

  it('round trip: every value of a resolved role written back as a file resolves to the same values', async () => {
    const first = resolve(SERVER_OPTIONS, {
      flags: { apiAddr: '[::1]:8080', label: ['zone=a', 'tier=edge'], hostPathRoot: ['/srv', '/data'], tls: true, agent: false, nodeGrace: '1m30s', cluster: 'edge', runtime: 'crun' },
    });
    const lines = Object.entries(SERVER_OPTIONS as OptionTable)
      .filter(([key, spec]) => spec.file && first.values[key as keyof typeof first.values] !== undefined)
      .map(([key, spec]) => {
        const value: unknown = first.values[key as keyof typeof first.values];
        const text = spec.unit.list ? JSON.stringify(spec.unit.format(value).split(',').filter(Boolean)) : JSON.stringify(spec.unit.format(value));
        return `${fileKey(key, spec)}: ${text}`;
      });
    const again = resolve(SERVER_OPTIONS, { file: await configFile(lines.join('\n') + '\n') });
    for (const [key, spec] of Object.entries(SERVER_OPTIONS)) if (spec.file) expect(again.values[key as keyof typeof again.values], key).toEqual(first.values[key as keyof typeof first.values]);
  });
});

describe('grove server|agent --print-config', () => {
  it('prints every option with its value and source, secrets redacted, and starts nothing', async () => {
    await writeFile(join(dir, 'config.yaml'), 'update-lock-max: 2h\nlabel: [zone=a]\n');
    const r = await grove(['agent', '--print-config', '--restart-backoff', '30s'], { GROVE_HEARTBEAT: '5s', GROVE_TOKEN: 'grove1.secret-token' });
    expect(r).toMatchObject({ code: 0, err: '' });
    const rows = new Map(r.out.trim().split('\n').slice(1).map((line) => {
      const [name, value, ...source] = line.split(/\s{3,}/);
      return [name!, { value, source: source.join(' ') }];
    }));
    expect(rows.get('restart-backoff')).toEqual({ value: '30s', source: '--restart-backoff' });
    expect(rows.get('heartbeat')).toEqual({ value: '5s', source: '$GROVE_HEARTBEAT' });
    expect(rows.get('update-lock-max')).toEqual({ value: '2h', source: join(dir, 'config.yaml') });
    expect(rows.get('label')).toEqual({ value: 'zone=a', source: join(dir, 'config.yaml') });
    expect(rows.get('rootfs-mode')).toEqual({ value: 'auto', source: 'default' });
    expect(rows.get('token')).toEqual({ value: '<redacted>', source: '$GROVE_TOKEN' });
    expect(rows.get('data-dir')).toEqual({ value: dir, source: '--data-dir' });
    expect(rows.get('config')).toEqual({ value: join(dir, 'config.yaml'), source: '$GROVE_CONFIG_FILE' });
    expect(r.out).not.toContain('secret-token');
    // Every option of the role is listed, once.
    expect([...rows.keys()].sort()).toEqual(Object.entries({ ...GLOBAL_OPTIONS, ...AGENT_OPTIONS }).filter(([k]) => k !== 'printConfig').map(([k, s]) => flagText(k, { ...s, negate: false }).slice(2)).sort());
  });

  it('grove server --print-config shows the server options, the default config file marked absent', async () => {
    const r = await grove(['server', '--print-config', '--no-agent', '--api-addr', '127.0.0.1:9'], { GROVE_CONFIG_FILE: '' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^agent\s+false\s+--no-agent$/m);
    expect(r.out).toMatch(/^api-addr\s+127\.0\.0\.1:9\s+--api-addr$/m);
    expect(r.out).toMatch(/^node-grace\s+40s\s+default$/m);
    expect(r.out).toMatch(/^config\s+\/etc\/grove\/config\.yaml( \(absent\))?\s+default$/m);
  });

  it('one clear line for a bad value, a bad file, and --config in the wrong place', async () => {
    await writeFile(join(dir, 'config.yaml'), '');
    expect(await grove(['agent', '--print-config'], { GROVE_HEARTBEAT: 'often' })).toMatchObject({ code: 1, err: 'grove: GROVE_HEARTBEAT: "often" is not a duration (use e.g. 500ms, 90s, 30m, 24h)\n' });
    await writeFile(join(dir, 'config.yaml'), 'hartbeat: 5s\n');
    expect(await grove(['agent', '--print-config'])).toMatchObject({ code: 1, err: `grove: config file ${join(dir, 'config.yaml')}: unknown key "hartbeat" (did you mean heartbeat?)\n` });
    expect(await grove(['--config', 'x.yaml', 'server', '--print-config'])).toMatchObject({ code: 1, err: 'grove: --config before "server" names a client config: write grove server --config FILE for its configuration file\n' });
    const named = await grove(['server', '--config', join(dir, 'missing.yaml'), '--print-config']);
    expect(named).toMatchObject({ code: 1, err: `grove: config file ${join(dir, 'missing.yaml')}: not found\n` });
  });

  it('reads the file --config names (server and agent)', async () => {
    const other = join(dir, 'other.yaml');
    await writeFile(other, 'node-grace: 1m\n');
    await chmod(other, 0o600);
    const r = await grove(['server', '--config', other, '--print-config']);
    expect(r.out).toMatch(new RegExp(`^node-grace\\s+1m\\s+${other.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(r.out).toMatch(new RegExp(`^config\\s+${other.replace(/[.]/g, '\\.')}\\s+--config$`, 'm'));
  });
});
