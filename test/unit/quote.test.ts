import { describe, expect, it } from 'vitest';
import { clipText, MAX_QUOTED_CHARS, quoteValue } from '../../src/core/quote.js';
import { admitObject } from '../../src/server/objects/admit.js';
import { manifestsToObjects } from '../../src/core/manifests/manifest-objects.js';
import type { KindName } from '../../src/core/objects/kinds.js';
import { parseImageRef } from '../../src/core/image-ref.js';
import { parseDurationSeconds } from '../../src/core/quantity.js';
import { updatePolicyFromAnnotations } from '../../src/core/update-policy.js';
import { thrownMessage } from './thrown-message.js';
import { onePod, targetWith, wireRejection } from './wire-fixtures.js';

const MIB = 1024 * 1024;
const huge = 'x'.repeat(MIB);
/** Room for the field path and the sentence around the quoted value. */
const MESSAGE_ROOM = 400;
/** The server's Kubernetes-style message names up to 3 causes (a long key is quoted in each). */
const STATUS_ROOM = 1024;

/** The longest run of the value's character in `message`: how much of the value it quotes. */
function quotedRun(message: string): number {
  return Math.max(0, ...[...message.matchAll(/x+/g)].map((m) => m[0].length));
}

/** The message quotes the first 100 characters of a value of `length` and counts the rest. */
function expectShortQuote(message: string, length = MIB, room = MESSAGE_ROOM): void {
  expect(message).toContain(`… (${length} characters)`);
  expect(quotedRun(message)).toBeLessThanOrEqual(MAX_QUOTED_CHARS);
  expect(message.length).toBeLessThan(room);
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
  /** The server's refusal of an object (what POST /v1/apply and the Kubernetes routes answer). */
  const apply = (object: Record<string, unknown>): string => thrownMessage(() => admitObject(object.kind as KindName, object));
  const deployment = (meta: Record<string, unknown>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', ...meta },
    spec: { selector: { matchLabels: { app: 'w' } }, template: { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  });

  it.each([
    ['a label key', deployment({ labels: { [huge]: 'v' } })],
    ['an unknown field', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', [huge]: 1 }, data: {} }],
    ['a ConfigMap key', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { [huge]: 'v' } }],
    ['a name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: huge }, data: {} }],
  ])('API (objects/admit.ts): %s', (_what, object) => {
    expectShortQuote(apply(object), MIB, STATUS_ROOM);
  });

  // Values with a lower length limit of their own: the longest that limit lets through.
  it('API: an eviction-timeout annotation (at most 64 Ki characters)', () => {
    const long = 'x'.repeat(60_000);
    expectShortQuote(apply(deployment({ annotations: { 'grove.io/eviction-timeout': long } })), long.length);
  });

  it('wire (core/wire*.ts): a relative hostPath (at most 4096 characters)', () => {
    const long = 'x'.repeat(4000);
    const message = wireRejection(targetWith([onePod({}, { volumes: [{ name: 'a', hostPath: { path: long } }] })]));
    expectShortQuote(message, long.length);
    expect(message).toMatch(/characters\) must be an absolute path$/);
  });

  it('manifests (core/manifests → objects, files up to 1 MiB): an enum value, a label key, a quantity', () => {
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
    const problems = (text: string): string[] => manifestsToObjects([{ path: 'app.yaml', text }]).problems.map((p) => p.text);
    expectShortQuote(problems(deployment('a: b', '64Mi', long)).join('\n'), long.length);
    // A key too long and not a label key: two lines, each quoting it short (in the path and the reason).
    for (const line of problems(deployment(`"${long}": v`))) expectShortQuote(line, long.length, 2 * MESSAGE_ROOM);
    // A quantity longer than any quantity may be is refused by its length, without quoting it.
    const [memory] = problems(deployment('a: b', long));
    expect(memory).toContain('limits.memory: must be at most 64 characters long');
    expect(quotedRun(memory!)).toBeLessThanOrEqual(MAX_QUOTED_CHARS);
  });

  it('core parsers: image references, durations, update annotations', () => {
    expectShortQuote(thrownMessage(() => parseImageRef(huge)));
    expectShortQuote(thrownMessage(() => parseDurationSeconds(huge, '--node-grace')));
    expectShortQuote(thrownMessage(() => updatePolicyFromAnnotations({ 'grove.io/update-window': huge })));
  });
});
