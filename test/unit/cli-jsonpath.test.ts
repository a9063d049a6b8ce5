import { describe, expect, it } from 'vitest';
import { customColumnsRow, goSprint, parseCustomColumns, parseCustomColumnsFile, relaxedPath } from '../../src/cli/verbs/client/k8s/custom-columns.js';
import { parseOutputSpec } from '../../src/cli/verbs/client/k8s/get-output.js';
import { goJson, jsonPath } from '../../src/cli/verbs/client/k8s/jsonpath.js';
import { parseTemplate } from '../../src/cli/verbs/client/k8s/jsonpath-parse.js';
import { ErrorCode } from '../../src/core/errors.js';

const pod = (name: string, phase: string, node?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } },
  spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'web', image: `nginx:${name}` }, { name: 'log', image: 'busybox' }] },
  status: { phase },
});
const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [pod('a', 'Running', 'pi-1'), pod('b', 'Pending'), pod('c', 'Running', 'pi-2')] };

describe('kubectl JSONPath', () => {
  it('names every item: {.items[*].metadata.name}', () => {
    expect(jsonPath('{.items[*].metadata.name}', list)).toBe('a b c');
  });

  it('ranges with literal text: {range}{end}', () => {
    expect(jsonPath('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}', list)).toBe('a\tRunning\nb\tPending\nc\tRunning\n');
  });

  it('nests ranges', () => {
    expect(jsonPath('{range .items[0:2]}{.metadata.name}:{range .spec.containers[*]}[{.name}]{end};{end}', list)).toBe('a:[web][log];b:[web][log];');
  });

  it('filters: [?(@.status.phase=="Running")], != and exists', () => {
    expect(jsonPath('{.items[?(@.status.phase=="Running")].metadata.name}', list)).toBe('a c');
    expect(jsonPath("{.items[?(@.status.phase!='Running')].metadata.name}", list)).toBe('b');
    expect(jsonPath('{.items[?(@.spec.nodeName)].spec.nodeName}', list)).toBe('pi-1 pi-2');
    expect(jsonPath('{.items[?(@.metadata.name=~"^[ab]$")].metadata.name}', list)).toBe('a b');
  });

  it('compares numbers', () => {
    const data = { items: [{ n: 1 }, { n: 5 }, { n: 3 }] };
    expect(jsonPath('{.items[?(@.n>2)].n}', data)).toBe('5 3');
    expect(jsonPath('{.items[?(@.n<=3)].n}', data)).toBe('1 3');
    expect(jsonPath('{.items[?(@.n==5)].n}', data)).toBe('5');
  });

  it('descends recursively: ..image', () => {
    expect(jsonPath('{..image}', list.items[0])).toBe('nginx:a busybox');
    expect(jsonPath('{.items[1]..name}', list)).toBe('b web log');
  });

  it('slices: [-1:], [0], [-1], [0:2], [::2], [0,2]', () => {
    expect(jsonPath('{.items[-1:].metadata.name}', list)).toBe('c');
    expect(jsonPath('{.items[-1].metadata.name}', list)).toBe('c');
    expect(jsonPath('{.items[0].metadata.name}', list)).toBe('a');
    expect(jsonPath('{.items[0:2].metadata.name}', list)).toBe('a b');
    expect(jsonPath('{.items[::2].metadata.name}', list)).toBe('a c');
    expect(jsonPath('{.items[0,2].metadata.name}', list)).toBe('a c');
    expect(jsonPath("{.items[*]['metadata']}", { items: [] })).toBe('');
    expect(() => jsonPath('{.items[*]["metadata"]}', list)).toThrow('invalid array index "metadata"');
  });

  it('reads quoted keys, and escaped dots as kubectl does', () => {
    expect(jsonPath("{.metadata['name']}", list.items[0])).toBe('a');
    expect(jsonPath('{.metadata.labels.app\\.kubernetes\\.io/name}', list.items[0])).toBe('shop');
    expect(jsonPath("{.metadata.labels['app\\.kubernetes\\.io/name']}", list.items[0])).toBe('shop');
    // kubectl reads a quoted key as `.key`: an unescaped dot still separates fields.
    expect(jsonPath("{.metadata.labels['app.kubernetes.io/name']}", list.items[0])).toBe('');
  });

  it('prints objects and arrays as compact JSON with sorted keys, and text around actions as it is', () => {
    expect(jsonPath('{.metadata.labels}', list.items[0])).toBe('{"app":"web","app.kubernetes.io/name":"shop"}');
    expect(jsonPath('names: {.spec.containers[*].name}!', list.items[0])).toBe('names: web log!');
    expect(jsonPath('{.spec.containers[0]}', { spec: { containers: [{ z: 1, a: '<b>' }] } })).toBe('{"a":"\\u003cb\\u003e","z":1}');
    expect(jsonPath('{.n} {.b} {.x}', { n: 1.5, b: true, x: null })).toBe('1.5 true <nil>');
    expect(jsonPath('{$.n}{@.n}', { n: 2 })).toBe('22');
  });

  it('treats a missing key as nothing, and `.*` as every value', () => {
    expect(jsonPath('{.metadata.missing.deeper}', list.items[0])).toBe('');
    expect(jsonPath('{.status.*}', list.items[0])).toBe('Running');
  });

  it('fails like kubectl on an index out of range or a filter on a non-array', () => {
    expect(() => jsonPath('{.items[5]}', list)).toThrow(/array index out of bounds: index 5, length 3/);
    expect(() => jsonPath('{.items[0]}', { items: [] })).toThrow(/error executing jsonpath "\{\.items\[0\]\}": array index out of bounds/);
    expect(() => jsonPath('{.metadata[?(@.a)]}', list.items[0])).toThrow(/cannot be filtered/);
    expect(() => jsonPath('{.metadata[0]}', list.items[0])).toThrow(/is not array or slice/);
  });

  it('refuses templates kubectl refuses, naming the template', () => {
    for (const [template, message] of [
      ['{.items[0}', 'unterminated array'],
      ['{.items', 'unclosed action'],
      ['{range .items[*]}{.a}', 'range without end'],
      ['{end}', 'not in range'],
      ['{"abc}', 'unterminated quoted string'],
      ['{.items[?(@.a=="x"}', 'unterminated filter'],
      ['{.items[a]}', 'invalid array index a'],
      ['{....a}', 'invalid multiple recursive descent'],
      ['{.a[?(@.b=>1)]}', 'unrecognized filter operator =>'],
    ] as const) {
      expect(() => parseTemplate(template), template).toThrow(message);
      try {
        parseTemplate(template);
      } catch (err) {
        expect((err as { code: string }).code).toBe(ErrorCode.InvalidArgument);
        expect((err as Error).message).toContain(template);
      }
    }
  });

  it('limits a template\'s length', () => {
    expect(() => parseTemplate(`{.a}${'x'.repeat(70_000)}`)).toThrow(/longer than/);
  });

  it('writes JSON as Go does', () => {
    expect(goJson({ b: [1, { d: 2, c: 3 }], a: '&' })).toBe('{"a":"\\u0026","b":[1,{"c":3,"d":2}]}');
  });
});

describe('custom columns', () => {
  it('reads HEADER:PATH pairs with relaxed paths', () => {
    const columns = parseCustomColumns('NAME:.metadata.name,NODE:spec.nodeName,IMAGES:{.spec.containers[*].image}');
    expect(columns.map((c) => c.header)).toEqual(['NAME', 'NODE', 'IMAGES']);
    expect(customColumnsRow(columns, list.items[0])).toEqual(['a', 'pi-1', 'nginx:a,busybox']);
    expect(customColumnsRow(columns, list.items[1])).toEqual(['b', '<none>', 'nginx:b,busybox']);
  });

  it('prints maps and arrays as Go does', () => {
    expect(customColumnsRow(parseCustomColumns('L:.metadata.labels'), list.items[0])).toEqual(['map[app:web app.kubernetes.io/name:shop]']);
    expect(goSprint([1, 'a', null])).toBe('[1 a <nil>]');
  });

  it('refuses a spec without a path', () => {
    expect(() => parseCustomColumns('NAME')).toThrow('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>');
    expect(() => relaxedPath('{a}{b}')).toThrow(/unexpected path string/);
  });

  it('reads a columns file: headers, then paths', () => {
    const columns = parseCustomColumnsFile('NAME   PHASE\n.metadata.name   .status.phase\n');
    expect(customColumnsRow(columns, list.items[1])).toEqual(['b', 'Pending']);
    expect(() => parseCustomColumnsFile('NAME PHASE\n.metadata.name\n')).toThrow('2 headers but 1 paths');
  });
});

describe('-o formats', () => {
  it('reads the format word and its argument', () => {
    expect(parseOutputSpec('wide')).toEqual({ format: 'wide' });
    expect(parseOutputSpec('jsonpath={.a=b}')).toEqual({ format: 'jsonpath', argument: '{.a=b}' });
    expect(parseOutputSpec('custom-columns=N:.a')).toEqual({ format: 'custom-columns', argument: 'N:.a' });
  });

  it('refuses unknown formats and missing templates as kubectl does', () => {
    expect(() => parseOutputSpec('jsonpath')).toThrow('template format specified but no template given');
    expect(() => parseOutputSpec('custom-columns=')).toThrow('no custom columns given');
    expect(() => parseOutputSpec('xml')).toThrow('unable to match a printer suitable for the output format "xml", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-file,name,wide,yaml');
    expect(() => parseOutputSpec('wide=1')).toThrow('unable to match');
  });
});
