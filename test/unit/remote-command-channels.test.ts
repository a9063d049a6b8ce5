import { describe, expect, it } from 'vitest';
import { Channel, exitStatus, failureStatus, frame, parseClientMessage } from '../../src/server/streams/channels.js';
import { execRequest, requestedContainer } from '../../src/server/k8s-api/remote-command.js';
import type { Pod } from '../../src/core/objects/pod.js';

const msg = (channel: number, body: string | number[]): Buffer => Buffer.concat([Buffer.from([channel]), typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)]);

describe('remote-command channels', () => {
  it('frames output with its channel byte', () => {
    expect([...frame(Channel.stdout, 'hi')]).toEqual([1, 104, 105]);
    expect([...frame(Channel.error, Buffer.from([0, 255]))]).toEqual([3, 0, 255]);
  });

  it('reads stdin, resize and (v5 only) the end of stdin', () => {
    expect(parseClientMessage(msg(0, 'abc'), 'v5.channel.k8s.io')).toEqual({ type: 'stdin', data: Buffer.from('abc') });
    expect(parseClientMessage(msg(4, '{"Width":120,"Height":40}'), 'v4.channel.k8s.io')).toEqual({ type: 'resize', width: 120, height: 40 });
    expect(parseClientMessage(msg(255, [0]), 'v5.channel.k8s.io')).toEqual({ type: 'stdin-end' });
    expect(parseClientMessage(msg(255, [0]), 'v4.channel.k8s.io')).toEqual({ type: 'ignored' });
    expect(parseClientMessage(msg(1, 'x'), 'v5.channel.k8s.io')).toEqual({ type: 'ignored' });
    expect(parseClientMessage(Buffer.alloc(0), 'v5.channel.k8s.io')).toEqual({ type: 'ignored' });
  });

  it('refuses a resize that is not the size kubectl sends', () => {
    expect(() => parseClientMessage(msg(4, 'nope'), 'v5.channel.k8s.io')).toThrow('resize message is not JSON');
    expect(() => parseClientMessage(msg(4, '{"Width":-1,"Height":3}'), 'v5.channel.k8s.io')).toThrow('Width');
    expect(() => parseClientMessage(msg(4, 'x'.repeat(300)), 'v5.channel.k8s.io')).toThrow('at most 256');
  });

  it('words the end as the kubelet does: Success, or NonZeroExitCode with the code', () => {
    expect(exitStatus(0, ['true'])).toEqual({ metadata: {}, status: 'Success' });
    expect(exitStatus(3, ['sh', '-c', 'exit 3'])).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(failureStatus('container web is not running')).toEqual({ metadata: {}, status: 'Failure', message: 'container web is not running' });
  });
});

const pod = (containers: string[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: containers.map((name) => ({ name, image: 'busybox' })) } }) as unknown as Pod;

describe('exec requests', () => {
  it('takes the command, the flags and the only container', () => {
    const q = new URLSearchParams('command=sh&command=-c&command=exit%203&stdin=true&stdout=true&stderr=true');
    expect(execRequest(q, pod(['web']))).toEqual({ container: 'web', command: ['sh', '-c', 'exit 3'], stdin: true, stdout: true, stderr: true, tty: false });
  });

  it('refuses what the API server refuses, in its words', () => {
    expect(() => execRequest(new URLSearchParams('stdout=true'), pod(['web']))).toThrow('you must specify at least one command');
    expect(() => execRequest(new URLSearchParams('command=ls'), pod(['web']))).toThrow('at least one of stdin, stdout, stderr');
    expect(() => execRequest(new URLSearchParams('command=ls&stdout=true&stderr=true&tty=true'), pod(['web']))).toThrow('tty and stderr');
    expect(() => execRequest(new URLSearchParams('command=ls&stdout=maybe'), pod(['web']))).toThrow('stdout: expected true or false');
    expect(() => requestedContainer(pod(['a', 'b']), null)).toThrow('a container name must be specified for pod web-1, choose one of: [a b]');
    expect(() => requestedContainer(pod(['a']), 'z')).toThrow('container z is not valid for pod web-1');
    const many = new URLSearchParams();
    for (let i = 0; i < 1001; i++) many.append('command', 'x');
    many.set('stdout', 'true');
    expect(() => execRequest(many, pod(['web']))).toThrow('1001 arguments');
  });
});
