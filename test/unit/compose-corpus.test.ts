/**
 * The compose corpus (test/fixtures/compose-corpus: home automation, media, monitoring,
 * databases, IoT gateways, written in the shapes real projects use) translates without a
 * problem, read as `grove apply` reads it: the directory's .env, env_file and secrets from disk.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { composeHost } from '../../src/cli/client/compose-host.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';

const DIR = fileURLToPath(new URL('../fixtures/compose-corpus/', import.meta.url)).replace(/\/$/, '');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
/* eslint-disable @typescript-eslint/no-explicit-any */
const translate = (name: string, profiles: string[] = []) =>
  manifestsToObjects([{ path: name, text: readFileSync(`${DIR}/${name}`, 'utf8'), dir: DIR }], { compose: composeHost({ profile: profiles }, {}) });
const find = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('compose corpus', () => {
  it('has at least 15 files', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(FILES)('%s translates without a problem', (name) => {
    const r = translate(name);
    expect(r.problems.map((p) => p.text)).toEqual([]);
    expect(r.objects.some((o) => ['Deployment', 'DaemonSet', 'Job'].includes(o.kind))).toBe(true);
  });

  it('reads what the files mean', () => {
    const ha = translate('home-assistant.yaml').objects;
    expect(find(ha, 'Deployment', 'homeassistant').spec.template.metadata.annotations['grove.io/container-name']).toBe('homeassistant');
    expect(find(ha, 'Deployment', 'homeassistant').metadata.annotations['homepage.name']).toBe('Home Assistant');
    const mon = translate('monitoring-prometheus.yaml').objects;
    expect(Buffer.from(find(mon, 'Secret', 'grafana-admin').data.content, 'base64').toString()).toBe('admin-from-dotenv');
    expect(find(mon, 'Deployment', 'grafana').spec.template.spec.containers[0].env).toContainEqual({ name: 'GF_SERVER_ROOT_URL', value: 'https://grafana.example.org/' });
    expect(find(mon, 'DaemonSet', 'node-exporter').metadata.labels['com.docker.compose.service']).toBe('node_exporter');
    const pg = translate('db-postgres.yaml').objects;
    expect(find(pg, 'Deployment', 'db').spec.template.spec.containers[0].env).toContainEqual({ name: 'POSTGRES_USER', value: 'app' });
    expect(find(pg, 'Deployment', 'adminer')).toBeUndefined();
    expect(find(translate('db-postgres.yaml', ['tools']).objects, 'Deployment', 'adminer')).toBeDefined();
    const esp = translate('esphome-extends.yaml').objects;
    expect(esp.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['esphome']);
  });
});
