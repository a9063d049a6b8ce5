/**
 * Pod templates compared by meaning (src/core/objects/template-equality.ts): what the 0.1
 * migration writes and what the client sends for the same manifest are the same template; any
 * real difference is not.
 */
import { describe, expect, it } from 'vitest';
import type { Container } from '../../src/core/objects/pod-container.js';
import type { PodSpec } from '../../src/core/objects/pod.js';
import { findTemplate, samePodSpec, samePodTemplate, type ComparableTemplate } from '../../src/core/objects/template-equality.js';

const spec = (c: Partial<Container>, extra: Partial<PodSpec> = {}): PodSpec => ({ containers: [{ name: 'app', image: 'nginx:1.27', ...c }], ...extra });

describe('samePodSpec', () => {
  it('takes image references naming the same image as equal', () => {
    expect(samePodSpec(spec({ image: 'nginx' }), spec({ image: 'docker.io/library/nginx:latest' }))).toBe(true);
    expect(samePodSpec(spec({ image: 'example/app:3' }), spec({ image: 'index.docker.io/example/app:3' }))).toBe(true);
    expect(samePodSpec(spec({ image: 'nginx:1.27' }), spec({ image: 'nginx:1.25' }))).toBe(false);
    expect(samePodSpec(spec({ image: 'ghcr.io/x/nginx:1' }), spec({ image: 'nginx:1' }))).toBe(false);
  });

  it('compares quantities by value: resources and emptyDir sizes', () => {
    const res = (limits: Record<string, string | number>, requests?: Record<string, string | number>) => spec({ resources: { limits, ...(requests ? { requests } : {}) } });
    expect(samePodSpec(res({ cpu: '0.5', memory: '512Mi' }), res({ cpu: '500m', memory: '536870912' }))).toBe(true);
    expect(samePodSpec(res({ cpu: 0.1, memory: '1Gi' }), res({ cpu: '100m', memory: '1024Mi' }))).toBe(true);
    expect(samePodSpec(res({ 'grove.io/pids': 100 }), res({ 'grove.io/pids': '100' }))).toBe(true);
    expect(samePodSpec(res({ memory: '512M' }), res({ memory: '512Mi' }))).toBe(false);
    expect(samePodSpec(res({ cpu: '0.5' }), res({ cpu: '600m' }))).toBe(false);
    const vol = (sizeLimit: string) => spec({}, { volumes: [{ name: 'c', emptyDir: { medium: 'Memory', sizeLimit } }] });
    expect(samePodSpec(vol('16Mi'), vol('16777216'))).toBe(true);
    expect(samePodSpec(vol('16Mi'), vol('16M'))).toBe(false);
  });

  it('takes the code defaults as written or not (imagePullPolicy by tag, requests from limits)', () => {
    expect(samePodSpec(spec({ resources: { limits: { memory: '64Mi' } } }), spec({ imagePullPolicy: 'IfNotPresent', resources: { limits: { memory: '64Mi' }, requests: { memory: '64Mi' } } }))).toBe(true);
    expect(samePodSpec(spec({}), spec({ imagePullPolicy: 'Always' }))).toBe(false);
    expect(samePodSpec(spec({ resources: { limits: { memory: '64Mi' } } }), spec({ resources: { limits: { memory: '64Mi' }, requests: { memory: '32Mi' } } }))).toBe(false);
  });

  it('takes $(VAR) as written equal to what 0.1 expanded it to, in env, command and args', () => {
    const written = spec({ env: [{ name: 'HOST', value: 'db' }, { name: 'URL', value: 'pg://$(HOST):5432' }], command: ['run', '--url=$(URL)'], args: ['$(MISSING)', '$$(HOST)'] });
    const expanded = spec({ env: [{ name: 'HOST', value: 'db' }, { name: 'URL', value: 'pg://db:5432' }], command: ['run', '--url=pg://db:5432'], args: ['$(MISSING)', '$(HOST)'] });
    expect(samePodSpec(written, expanded)).toBe(true);
    expect(samePodSpec(expanded, written)).toBe(true);
    expect(samePodSpec(written, spec({ ...expanded.containers[0], command: ['run', '--url=pg://other:5432'] }))).toBe(false);
  });

  it('compares everything else as data: other fields, init containers, container order', () => {
    expect(samePodSpec(spec({ args: ['a'] }), spec({ args: ['b'] }))).toBe(false);
    expect(samePodSpec(spec({}, { hostNetwork: true }), spec({}))).toBe(false);
    const two = (a: string, b: string): PodSpec => ({ containers: [{ name: a, image: 'x:1' }, { name: b, image: 'x:1' }] });
    expect(samePodSpec(two('a', 'b'), two('b', 'a'))).toBe(false);
    expect(samePodSpec(spec({}, { initContainers: [{ name: 'i', image: 'busybox' }] }), spec({}, { initContainers: [{ name: 'i', image: 'docker.io/library/busybox:latest' }] }))).toBe(true);
    expect(samePodSpec(spec({}, { initContainers: [{ name: 'i', image: 'busybox' }] }), spec({}))).toBe(false);
  });
});

describe('samePodTemplate', () => {
  const t = (labels: Record<string, string>, annotations?: Record<string, string>, image = 'nginx:1.27'): ComparableTemplate => ({ metadata: { labels, ...(annotations ? { annotations } : {}) }, spec: spec({ image }) });

  it('ignores the hash labels and reads grove.io/devices by meaning', () => {
    expect(samePodTemplate(t({ app: 'web', 'pod-template-hash': 'abc' }), t({ app: 'web' }, undefined, 'docker.io/library/nginx:1.27'))).toBe(true);
    expect(samePodTemplate(t({ app: 'web' }, { 'grove.io/devices': '/dev/null:/dev/ttyUSB0' }), t({ app: 'web' }, { 'grove.io/devices': '/dev/null:/dev/ttyUSB0:rwm' }))).toBe(true);
    expect(samePodTemplate(t({ app: 'web' }, { 'grove.io/devices': '/dev/null:/dev/ttyUSB0:r' }), t({ app: 'web' }, { 'grove.io/devices': '/dev/null:/dev/ttyUSB0:rwm' }))).toBe(false);
  });

  it('any other label or annotation change is a different template', () => {
    expect(samePodTemplate(t({ app: 'web' }), t({ app: 'web', tier: 'x' }))).toBe(false);
    expect(samePodTemplate(t({ app: 'web' }, { 'grove.io/restartedAt': '2025-01-01T00:00:00Z' }), t({ app: 'web' }))).toBe(false);
  });
});

describe('findTemplate', () => {
  interface Rev { name: string; revision: number; template: ComparableTemplate }
  const rev = (name: string, revision: number, image: string): Rev => ({ name, revision, template: { spec: spec({ image }) } });
  const find = (revs: Rev[], image: string) => findTemplate(revs, (r) => r.template, (r) => r.revision, { spec: spec({ image }) })?.name;

  it('finds the newest one equal by meaning, however the wanted template is spelled', () => {
    const migrated = rev('migrated', 1, 'docker.io/library/nginx:1.27');
    const rolled = rev('rolled', 2, 'nginx:1.27');
    expect(find([migrated, rolled], 'nginx:1.27')).toBe('rolled');
    expect(find([rolled, migrated], 'docker.io/library/nginx:1.27')).toBe('rolled');
    expect(find([rolled, migrated], 'docker.io/library/nginx')).toBeUndefined();
    expect(find([rev('old', 1, 'nginx:1.25'), rolled], 'docker.io/library/nginx:1.25')).toBe('old');
  });
});
