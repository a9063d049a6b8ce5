import { describe, expect, it } from 'vitest';
import { isGroveError } from '../../src/core/errors.js';
import { checkSettings, hostsFile, networkConfig, pluginFailure, pluginInput, podAddress } from '../../agent/src/runtime/cni/cni-config.js';
import { parsePublishFlag } from '../../agent/src/runtime/container-network.js';

const settings = { bridge: 'grove0', subnet: '10.42.0.0/16', ipamDataDir: '/var/lib/grove/cni/ipam' };

describe('CNI configuration', () => {
  it('chains bridge (host-local, NAT), portmap and firewall', () => {
    const list = networkConfig(settings);
    expect(list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
    expect(list.plugins[0]).toMatchObject({ bridge: 'grove0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.42.0.0/16' }]], dataDir: '/var/lib/grove/cni/ipam' } });
  });

  it('builds each plugin input as libcni does: runtimeConfig for declared capabilities, prevResult chained', () => {
    const list = networkConfig(settings);
    const ports = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
    const prev = { ips: [{ address: '10.42.0.2/16' }] };
    expect(pluginInput(list, list.plugins[1]!, ports, prev)).toEqual({
      cniVersion: '1.0.0', name: 'grove', type: 'portmap', snat: true, runtimeConfig: { portMappings: ports }, prevResult: prev,
    });
    expect(pluginInput(list, list.plugins[0]!, ports)).not.toHaveProperty('runtimeConfig');
  });

  it('rejects bad bridge names and subnets', () => {
    for (const bad of [{ bridge: 'a-very-long-bridge-name' }, { subnet: '10.42.0.0' }, { subnet: '300.1.0.0/16' }, { subnet: '10.0.0.0/31' }]) {
      let error = '';
      try {
        checkSettings({ ...settings, ...bad });
      } catch (err) {
        error = isGroveError(err) ? err.message : String(err);
      }
      expect(error).not.toBe('');
    }
  });

  it('reads the address from a result and a CNI error as one line', () => {
    expect(podAddress({ ips: [{ address: 'fd00::2/64' }, { address: '10.42.0.7/16', gateway: '10.42.0.1' }] })).toEqual({ ip: '10.42.0.7', gateway: '10.42.0.1' });
    expect(pluginFailure('bridge', 'ADD', '{"code":11,"msg":"failed to allocate","details":"range full"}', 1).message).toBe('CNI bridge ADD failed (exit 1): failed to allocate: range full');
    expect(pluginFailure('portmap', 'DEL', 'plain text\nmore', 2).message).toBe('CNI portmap DEL failed (exit 2): plain text');
  });

  it('writes /etc/hosts', () => {
    expect(hostsFile('web-1', '10.42.0.7', [{ name: 'db', ip: '10.42.0.8' }])).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.42.0.7\tweb-1\n10.42.0.8\tdb\n');
  });

  it('parses -p [IP:]HOST:CONTAINER[/proto]', () => {
    expect(parsePublishFlag('8080:80')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePublishFlag('127.0.0.1:5353:53/udp')).toEqual({ hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' });
    expect(() => parsePublishFlag('80')).toThrow(/is not \[IP:\]HOST:CONTAINER/);
    expect(() => parsePublishFlag('70000:80')).toThrow(/ports are 1-65535/);
  });
});
