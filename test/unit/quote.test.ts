import { describe, expect, it } from 'vitest';
import { clipText, MAX_QUOTED_CHARS, quoteValue } from '../../src/core/quote.js';
import { validateResources } from '../../src/server/validate.js';
import { parseImageRef } from '../../src/core/image-ref.js';
import { parseDurationSeconds } from '../../src/core/quantity.js';
import { updatePolicyFromAnnotations } from '../../src/core/update-policy.js';
import { parseApps, thrownMessage } from './manifest-fixtures.js';
import { onePod, targetWith, wireRejection } from './wire-fixtures.js';

const MIB = 1024 * 1024;
const huge = 'x'.repeat(MIB);
/** Room for the field path and the sentence around the quoted value. */
const MESSAGE_ROOM = 400;

/** The longest run of the value's character in `message`: how much of the value it quotes. */
function quotedRun(message: string): number {
  return Math.max(0, ...[...message.matchAll(/x+/g)].map((m) => m[0].length));
}

/** The message quotes the first 100 characters of a value of `length` and counts the rest. */
function expectShortQuote(message: string, length = MIB): void {
  expect(message).toContain(`… (${length} characters)`);
  expect(quotedRun(message)).toBeLessThanOrEqual(MAX_QUOTED_CHARS);
  expect(message.length).toBeLessThan(MESSAGE_ROOM);
}

describe('quoteValue / clipText', () => {
  it('shows short values whole and cuts long ones at 100 characters, counting the rest', () => {
    expect(quoteValue('web')).toBe('"web"');
    expect(quoteValue(42)).toBe('42');
    expect(quoteValue(null)).toBe('null');
    expect(quoteValue('a\nb')).toBe('"a\\nb"');
    expect(quoteValue(huge)).toBe(`"${'x'.repeat(100)}"… (1048576 characters)`);
    expect(clipText('abc')).toBe('abc');
    expect(clipText(huge)).toBe(`${'x'.repeat(100)}… (1048576 characters)`);
  });

  it('never cuts a surrogate pair in half', () => {
    const text = `${'a'.repeat(99)}😀${'b'.repeat(50)}`;
    expect(clipText(text)).toBe(`${'a'.repeat(99)}… (${text.length} characters)`);
  });
});

describe('validation errors quote at most ~100 characters of a 1 MiB value', () => {
  const apply = (resource: unknown): string => thrownMessage(() => validateResources([resource]));
  const app = (over: Record<string, unknown>) => ({
    kind: 'App',
    meta: { name: 'web', ...over },
    spec: { kind: 'Deployment', replicas: 1, template: { containers: [{ name: 'c', image: 'busybox' }] } },
  });

  it.each([
    ['a name', { kind: 'ConfigMap', meta: { name: huge }, data: {} }],
    ['a label key', app({ labels: { [huge]: 'v' } })],
    ['an unknown field', { kind: 'ConfigMap', meta: { name: 'c', [huge]: 1 }, data: {} }],
    ['a ConfigMap key', { kind: 'ConfigMap', meta: { name: 'c' }, data: { [huge]: 'v' } }],
    ['a kind', { kind: huge, meta: { name: 'c' } }],
  ])('API (server/validate.ts): %s', (_what, resource) => {
    expectShortQuote(apply(resource));
  });

  // Values with a lower length limit of their own: the longest that limit lets through.
  it('API: an eviction-timeout annotation (at most 64 Ki characters)', () => {
    const long = 'x'.repeat(60_000);
    expectShortQuote(apply(app({ annotations: { 'grove.io/eviction-timeout': long } })), long.length);
  });

  it('wire (core/wire*.ts): a relative hostPath (at most 4096 characters)', () => {
    const long = 'x'.repeat(4000);
    const message = wireRejection(targetWith([onePod({}, { volumes: [{ name: 'a', hostPath: { path: long } }] })]));
    expectShortQuote(message, long.length);
    expect(message).toMatch(/characters\) must be an absolute path$/);
  });

  it('manifests (core/manifests, files up to 1 MiB): an enum value, a label key, a quantity', () => {
    const long = 'x'.repeat(200_000);
    const deployment = (labels: string, memory = '64Mi', policy = 'Always') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {${labels}}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: busybox, imagePullPolicy: "${policy}", resources: {limits: {memory: "${memory}"}}}]
`;
    expectShortQuote(thrownMessage(() => parseApps(deployment('a: b', '64Mi', long))), long.length);
    expectShortQuote(thrownMessage(() => parseApps(deployment(`"${long}": v`))), long.length);
    expectShortQuote(thrownMessage(() => parseApps(deployment('a: b', long))), long.length);
  });

  it('core parsers: image references, durations, update annotations', () => {
    expectShortQuote(thrownMessage(() => parseImageRef(huge)));
    expectShortQuote(thrownMessage(() => parseDurationSeconds(huge, '--node-grace')));
    expectShortQuote(thrownMessage(() => updatePolicyFromAnnotations({ 'grove.io/update-window': huge })));
  });
});
