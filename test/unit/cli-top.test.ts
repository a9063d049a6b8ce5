import { describe, expect, it } from 'vitest';
import { cpuCell, memoryCell, nodeRows, percentCell, podRows, quantityValue } from '../../src/cli/verbs/client/top.js';

describe('grove top cells (as kubectl top prints them)', () => {
  it('reads quantities and prints millicores rounded up, whole MiB and whole percentages', () => {
    expect(quantityValue('1250000000n')).toBeCloseTo(1.25);
    expect(quantityValue('512Mi')).toBe(512 * 1024 ** 2);
    expect(quantityValue('bogus')).toBeNaN();
    expect(cpuCell(0.0000012)).toBe('1m');
    expect(cpuCell(0)).toBe('0m');
    expect(cpuCell(1.25)).toBe('1250m');
    expect(memoryCell(3 * 1024 ** 2 + 5)).toBe('3Mi');
    expect(percentCell('500m', '4')).toBe('12%');
    expect(percentCell('1Gi', undefined)).toBe('<unknown>');
  });

  it('nodes against their allocatable; pods summed or per container, NAMESPACE first with -A', () => {
    expect(nodeRows([{ metadata: { name: 'pi-1' }, usage: { cpu: '1250000000n', memory: '1Gi' } }], [{ metadata: { name: 'pi-1' }, status: { allocatable: { cpu: '4', memory: '4194304Ki' } } }])).toEqual([
      ['pi-1', '1250m', '31%', '1024Mi', '25%'],
    ]);
    const metrics = [{ metadata: { name: 'web-1', namespace: 'shop' }, containers: [{ name: 'a', usage: { cpu: '5000000n', memory: '2Mi' } }, { name: 'b', usage: { cpu: '1n', memory: '1Mi' } }] }];
    expect(podRows(metrics, { allNamespaces: false, containers: false })).toEqual({ headers: ['NAME', 'CPU(cores)', 'MEMORY(bytes)'], rows: [['web-1', '6m', '3Mi']] });
    expect(podRows(metrics, { allNamespaces: true, containers: true })).toEqual({
      headers: ['NAMESPACE', 'POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      rows: [
        ['shop', 'web-1', 'a', '5m', '2Mi'],
        ['shop', 'web-1', 'b', '1m', '1Mi'],
      ],
    });
  });
});
