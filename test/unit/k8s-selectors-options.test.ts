/**
 * The pure parts of lists and watches: field selectors (syntax, per-kind fields, the API
 * server's refusals), the list options and their Kubernetes combination rules, continue tokens.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { decodeContinue, encodeContinue, positionOf } from '../../src/server/k8s-api/continue-token.js';
import { fieldFilter, parseFieldSelector } from '../../src/server/k8s-api/field-selector.js';
import { parseListOptions } from '../../src/server/k8s-api/list-options.js';
import { statusOf } from '../../src/server/k8s-api/status.js';
import type { ApiObject } from '../../src/server/k8s-api/watch-source.js';
import { thrownBy } from '../support/thrown.js';

const pod = (name: string, nodeName?: string, phase?: string, namespace = 'default'): ApiObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [] },
  ...(phase ? { status: { phase } } : {}),
});

describe('field selectors', () => {
  it('parses =, == and != joined by commas, with escapes in values', () => {
    expect(parseFieldSelector('spec.nodeName=pi-1,status.phase!=Running, metadata.name==a\\,b\\=c\\\\')).toEqual([
      { field: 'spec.nodeName', op: '=', value: 'pi-1' },
      { field: 'status.phase', op: '!=', value: 'Running' },
      { field: 'metadata.name', op: '=', value: 'a,b=c\\' },
    ]);
    expect(parseFieldSelector('')).toEqual([]);
    expect(parseFieldSelector(null)).toEqual([]);
    expect(parseFieldSelector('spec.nodeName=')).toEqual([{ field: 'spec.nodeName', op: '=', value: '' }]);
  });

  it('refuses what it cannot read, naming the selector', () => {
    expect(thrownBy(() => parseFieldSelector('spec.nodeName')).message).toBe("invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'");
    expect(thrownBy(() => parseFieldSelector('a=b\\x')).message).toMatch(/invalid escape sequence/);
    expect(thrownBy(() => parseFieldSelector('a=b=c')).message).toMatch(/unescaped "="/);
    expect(thrownBy(() => parseFieldSelector('a=' + 'x'.repeat(5000))).code).toBe(ErrorCode.InvalidArgument);
  });

  it('selects pods by node and phase; absent fields are empty', () => {
    const pods = [pod('a', 'pi-1', 'Running'), pod('b', 'pi-2', 'Pending'), pod('c')];
    const names = (text: string) => pods.filter(fieldFilter('Pod', parseFieldSelector(text))).map((p) => p.metadata.name);
    expect(names('spec.nodeName=pi-1')).toEqual(['a']);
    expect(names('spec.nodeName!=pi-1')).toEqual(['b', 'c']);
    expect(names('spec.nodeName=')).toEqual(['c']);
    expect(names('status.phase!=Running,metadata.namespace=default')).toEqual(['b', 'c']);
    expect(names('metadata.name=b')).toEqual(['b']);
  });

  it('reads booleans as the API server does (a Node without spec.unschedulable is "false")', () => {
    const node = (name: string, unschedulable?: boolean): ApiObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: unschedulable === undefined ? {} : { unschedulable } });
    const filter = fieldFilter('Node', parseFieldSelector('spec.unschedulable=false'));
    expect([node('a'), node('b', true), node('c', false)].filter(filter).map((n) => n.metadata.name)).toEqual(['a', 'c']);
  });

  it('refuses other fields in the API server\'s words: 400 BadRequest', () => {
    const own = thrownBy(() => fieldFilter('Pod', parseFieldSelector('spec.foo=x')));
    expect(own.message).toBe('field label not supported: spec.foo');
    const generic = thrownBy(() => fieldFilter('ConfigMap', parseFieldSelector('data.a=x')));
    expect(generic.message).toBe('"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"');
    expect(statusOf(generic)).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('takes another table of fields (how Events add theirs)', () => {
    const filter = fieldFilter('Event', parseFieldSelector('involvedObject.name=web,type=Warning'));
    const event = (name: string, type: string): ApiObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `e-${name}` }, involvedObject: { kind: 'Pod', name }, type });
    expect([event('web', 'Warning'), event('web', 'Normal'), event('db', 'Warning')].filter(filter).map((e) => e.metadata.name)).toEqual(['e-web']);
    const custom = fieldFilter('Thing', parseFieldSelector('spec.color=red'), { Thing: { 'spec.color': (o) => String((o.spec as { color?: string }).color ?? '') } });
    expect(custom({ apiVersion: 'v1', kind: 'Thing', metadata: { name: 'x' }, spec: { color: 'red' } })).toBe(true);
  });
});

describe('list options', () => {
  const q = (text: string) => parseListOptions(new URLSearchParams(text));

  it('reads every parameter', () => {
    const token = encodeContinue({ resourceVersion: '12', after: 'default/web' });
    expect(q(`labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dpi&limit=2&continue=${token}&resourceVersion=&timeoutSeconds=30`)).toEqual({
      watch: false,
      labelSelector: [{ key: 'app', op: 'in', values: ['web'] }],
      fieldSelector: [{ field: 'spec.nodeName', op: '=', value: 'pi' }],
      limit: 2,
      continue: { resourceVersion: '12', after: 'default/web' },
      allowWatchBookmarks: false,
      timeoutSeconds: 30,
    });
    expect(q('watch=1&allowWatchBookmarks=true&resourceVersion=7')).toMatchObject({ watch: true, allowWatchBookmarks: true, resourceVersion: '7' });
    expect(q('watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan')).toMatchObject({ watch: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' });
    // A limit of 0 or less is no limit, as in Kubernetes.
    expect(q('limit=0').limit).toBeUndefined();
    expect(q('limit=-3').limit).toBeUndefined();
  });

  it('answers malformed values with 400', () => {
    for (const bad of ['watch=maybe', 'limit=ten', 'timeoutSeconds=1.5', 'timeoutSeconds=-1', `resourceVersion=${'9'.repeat(70)}`, 'continue=%%%', 'continue=abc']) {
      const err = thrownBy(() => q(bad));
      expect(statusOf(err).code, bad).toBe(400);
    }
    expect(thrownBy(() => q('continue=abc')).message).toMatch(/^invalid continue token/);
    const token = encodeContinue({ resourceVersion: '12', after: 'default/web' });
    expect(thrownBy(() => q(`continue=${token}&resourceVersion=5`)).message).toBe('specifying resource version is not allowed when using continue');
  });

  it('refuses the combinations Kubernetes forbids: 422 Invalid ListOptions, one cause each', () => {
    const cases: [string, string[]][] = [
      ['resourceVersionMatch=Exact', ['resourceVersionMatch is forbidden unless resourceVersion is provided']],
      ['resourceVersion=0&resourceVersionMatch=Exact', ['resourceVersionMatch "exact" is forbidden for resourceVersion "0"']],
      ['resourceVersion=3&resourceVersionMatch=Newest', ['Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""']],
      ['sendInitialEvents=true', ['sendInitialEvents is forbidden for list']],
      ['watch=1&resourceVersionMatch=NotOlderThan', ['resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided']],
      ['watch=1&sendInitialEvents=true', ['sendInitialEvents requires setting resourceVersionMatch to NotOlderThan']],
      ['watch=1&sendInitialEvents=true&resourceVersionMatch=Exact', ['sendInitialEvents requires setting resourceVersionMatch to NotOlderThan', 'Unsupported value: "Exact": supported values: "NotOlderThan"']],
    ];
    for (const [text, messages] of cases) {
      const status = statusOf(thrownBy(() => q(text)));
      expect(status.code, text).toBe(422);
      expect(status.reason, text).toBe('Invalid');
      expect(status.details?.causes?.map((c) => c.message.replace(/^Forbidden: /, '')), text).toEqual(messages);
      expect(status.message, text).toMatch(/^ListOptions\.meta\.k8s\.io "" is invalid: /);
    }
  });
});

describe('continue tokens', () => {
  it('round-trips and stays opaque (base64url)', () => {
    const text = encodeContinue({ resourceVersion: '42', after: 'shop/web-1' });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeContinue(text)).toEqual({ resourceVersion: '42', after: 'shop/web-1' });
  });

  it('refuses anything it did not make', () => {
    const forge = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const bad of [forge({ v: 2, rv: '1', after: 'a/b' }), forge({ v: 1, rv: 'x y', after: 'a/b' }), forge({ v: 1, rv: '1', after: 'nothing' }), forge([1]), 'x'.repeat(3000)]) {
      expect(thrownBy(() => decodeContinue(bad)).code).toBe(ErrorCode.InvalidArgument);
    }
  });

  it('orders by namespace, then name', () => {
    expect(positionOf({ metadata: { namespace: 'a', name: 'z' } }) < positionOf({ metadata: { namespace: 'b', name: 'a' } })).toBe(true);
    expect(positionOf({ metadata: { name: 'node-1' } })).toBe('/node-1');
  });
});
