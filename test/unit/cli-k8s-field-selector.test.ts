import { describe, expect, it } from 'vitest';
import { parseFieldSelector, selectByFields } from '../../src/cli/verbs/client/k8s/field-selector.js';
import { node, pod } from './cli-k8s-fixtures.js';

describe('--field-selector (applied by the client)', () => {
  const pods = [pod('a', { phase: 'Running' }), pod('b', { phase: 'Pending' }, { spec: { nodeName: undefined } }), pod('c', { phase: 'Running' }, { spec: { nodeName: 'pi-2' } })];
  const names = (selector: string) => selectByFields('Pod', pods, parseFieldSelector(selector)).map((p) => p.metadata.name);

  it('=, ==, != joined by commas; an absent field is ""', () => {
    expect(names('spec.nodeName=pi-1')).toEqual(['a']);
    expect(names('spec.nodeName==pi-2')).toEqual(['c']);
    expect(names('spec.nodeName=')).toEqual(['b']);
    expect(names('status.phase!=Running')).toEqual(['b']);
    expect(names('status.phase=Running,metadata.name!=a')).toEqual(['c']);
    expect(names('')).toEqual(['a', 'b', 'c']);
  });

  it('booleans: an absent spec.unschedulable is false', () => {
    const nodes = [node('pi-1'), node('pi-2', { unschedulable: true })];
    expect(selectByFields('Node', nodes, parseFieldSelector('spec.unschedulable=true')).map((n) => n.metadata.name)).toEqual(['pi-2']);
    expect(selectByFields('Node', nodes, parseFieldSelector('spec.unschedulable=false')).map((n) => n.metadata.name)).toEqual(['pi-1']);
  });

  it('refuses a field the kind is not selected by, and what is not field=value', () => {
    expect(() => selectByFields('Deployment', [], parseFieldSelector('spec.replicas=1'))).toThrow('field label not supported: spec.replicas');
    expect(() => parseFieldSelector('spec.nodeName')).toThrow('invalid field selector "spec.nodeName"');
  });
});
