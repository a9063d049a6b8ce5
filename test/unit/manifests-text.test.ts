import { describe, expect, it } from 'vitest';
import { interpolate, parseGoDurationSeconds, splitShellWords } from '../../src/core/manifests/compose-text.js';
import { expandK8sVars } from '../../src/core/manifests/k8s-expand.js';
import { parseK8sMemory } from '../../src/core/manifests/k8s-quantity.js';

describe('compose shell words', () => {
  it.each([
    ['sleep 3600', ['sleep', '3600']],
    ['  a\tb\n c  ', ['a', 'b', 'c']],
    [`sh -c 'echo "hi there"'`, ['sh', '-c', 'echo "hi there"']],
    [`echo "a \\"b\\" \\\\ \\n"`, ['echo', 'a "b" \\ \\n']],
    [`a\\ b c`, ['a b', 'c']],
    [`x'y'"z"`, ['xyz']],
    [`'' ""`, ['', '']],
    ['', []],
  ])('splits %j', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
  });

  it.each([
    [`echo 'a`, 'unclosed single quote'],
    [`echo "a`, 'unclosed double quote'],
    ['echo a\\', 'lone backslash'],
    ['a | b', '"|" is a shell operator'],
    ['a > f', '">" is a shell operator'],
  ])('rejects %j', (text, message) => {
    expect(() => splitShellWords(text)).toThrow(message);
  });

  it('keeps quoted operators', () => {
    expect(splitShellWords(`sh -c "a && b | c > d"`)).toEqual(['sh', '-c', 'a && b | c > d']);
  });
});

describe('compose interpolation without an environment', () => {
  it.each([
    ['plain', 'plain'],
    ['cost: $$5', 'cost: $5'],
    ['${TAG:-latest}', 'latest'],
    ['${TAG-latest}', 'latest'],
    ['x${TAG:+set}y', 'xy'],
    ['${A:-${B:-nested}}!', 'nested!'],
    ['${A:-}', ''],
  ])('%j → %j', (text, out) => {
    expect(interpolate(text)).toBe(out);
  });

  it.each([
    ['${HOME:?set it}', 'variable HOME is required: set it'],
    ['$', 'a lone "$"'],
    ['${', '"${" must be followed by a variable name'],
    ['${A:-x', '"${" is not closed'],
    ['${A#x}', 'is not followed by "}"'],
  ])('rejects %j', (text, message) => {
    expect(() => interpolate(text)).toThrow(message);
  });
});

describe('Go durations', () => {
  it.each([
    ['10s', 10],
    ['1m30s', 90],
    ['1h', 3600],
    ['1500ms', 2],
    ['0.5s', 1],
  ])('%s is %d s', (text, seconds) => {
    expect(parseGoDurationSeconds(text)).toBe(seconds);
  });
  it('rejects other text', () => {
    expect(() => parseGoDurationSeconds('10')).toThrow('"10" is not a duration');
    expect(() => parseGoDurationSeconds('1d')).toThrow('is not a duration');
  });
});

describe('Kubernetes $(VAR) expansion', () => {
  const vars = new Map([
    ['A', 'one'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['$(A)', 'one'],
    ['x$(A)y$(A)', 'xoneyone'],
    ['$(EMPTY)!', '!'],
    ['$(B)', '$(B)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['$x $', '$x $'],
    ['$(A', '$(A'],
  ])('%j → %j', (text, out) => {
    expect(expandK8sVars(text, vars)).toBe(out);
  });
});

describe('Kubernetes memory quantities', () => {
  it.each([
    ['128974848', 128974848],
    [128974848, 128974848],
    ['129e6', 129e6],
    ['129M', 129e6],
    ['123Mi', 123 * 2 ** 20],
    ['1.1G', 1.1e9],
    ['0.5Ki', 512],
    ['1k', 1000],
    ['1.0001', 2],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseK8sMemory(text, 'memory')).toBe(bytes);
  });
  it.each([
    ['64Mq', 'memory: "64Mq" is not a size'],
    ['1K', 'memory: "1K" is not a size'],
    ['-1Mi', 'is not a size'],
    ['10m', 'memory: "10m" is 10 millibytes in Kubernetes: write 10Mi for mebibytes'],
    ['1e400', 'is too large'],
  ])('rejects %j', (text, message) => {
    expect(() => parseK8sMemory(text, 'memory')).toThrow(message);
  });
});
