import { describe, expect, it } from 'vitest';
import { authorize, nodeTopicsFor, type MqttAction } from '../../src/server/security/acl.js';

const C = 'home';
const N = `grove/v1/${C}/nodes`;
const S = 'grove-server';

// [username, action, topic, allowed]
const matrix: [string | undefined, MqttAction, string, boolean][] = [
  // the server: anything under its cluster, wildcards included
  [S, 'subscribe', `grove/v1/${C}/#`, true],
  [S, 'subscribe', `${N}/+/status`, true],
  [S, 'subscribe', `${N}/+/presence`, true],
  [S, 'publish', `${N}/pi-1/target`, true],
  [S, 'publish', `${N}/pi-1/rpc/req`, true],
  [S, 'subscribe', `grove/v1/${C}`, true],
  // … and nothing outside it
  [S, 'subscribe', '#', false],
  [S, 'subscribe', 'grove/v1/+/nodes/+/status', false],
  [S, 'subscribe', 'grove/v1/other/#', false],
  [S, 'subscribe', `grove/v1/${C}x/#`, false],
  [S, 'subscribe', '$SYS/#', false],
  [S, 'publish', 'grove/v1/other/nodes/pi-1/target', false],
  [S, 'publish', `${N}/+/target`, false],
  // a node: its own two inbound topics
  ['node.pi-1', 'subscribe', `${N}/pi-1/target`, true],
  ['node.pi-1', 'subscribe', `${N}/pi-1/rpc/req`, true],
  // … its own three outbound topics
  ['node.pi-1', 'publish', `${N}/pi-1/status`, true],
  ['node.pi-1', 'publish', `${N}/pi-1/presence`, true],
  ['node.pi-1', 'publish', `${N}/pi-1/rpc/res`, true],
  // … not the other direction
  ['node.pi-1', 'publish', `${N}/pi-1/target`, false],
  ['node.pi-1', 'publish', `${N}/pi-1/rpc/req`, false],
  ['node.pi-1', 'subscribe', `${N}/pi-1/status`, false],
  ['node.pi-1', 'subscribe', `${N}/pi-1/rpc/res`, false],
  // … nor another node's, including one whose name extends its own
  ['node.pi-1', 'subscribe', `${N}/pi-10/target`, false],
  ['node.pi-10', 'subscribe', `${N}/pi-1/target`, false],
  ['node.pi-1', 'publish', `${N}/pi-10/status`, false],
  ['node.pi-1', 'publish', `${N}/pi-10/presence`, false],
  ['node.pi-10', 'publish', `${N}/pi-1/presence`, false],
  // … nor wildcard tricks
  ['node.pi-1', 'subscribe', '#', false],
  ['node.pi-1', 'subscribe', `${N}/+/target`, false],
  ['node.pi-1', 'subscribe', `${N}/pi-1/#`, false],
  ['node.pi-1', 'subscribe', `${N}/pi-1/+`, false],
  ['node.pi-1', 'subscribe', `grove/v1/+/nodes/pi-1/target`, false],
  ['node.pi-1', 'subscribe', `${N}/pi-1/target/#`, false],
  ['node.pi-1', 'subscribe', `$share/g/${N}/pi-10/target`, false],
  ['node.pi-1', 'publish', `${N}/pi-1/status/extra`, false],
  ['node.pi-1', 'publish', `${N}/pi-1/+`, false],
  // … nor its own topics in another cluster
  ['node.pi-1', 'subscribe', `grove/v1/other/nodes/pi-1/target`, false],
  // identities that are not ours
  ['node:pi-1', 'subscribe', `${N}/pi-1/target`, false],
  ['node.', 'subscribe', `${N}//target`, false],
  ['node.PI-1', 'subscribe', `${N}/PI-1/target`, false],
  ['node.pi-1/target', 'subscribe', `${N}/pi-1/target/target`, false],
  ['node.+', 'subscribe', `${N}/+/target`, false],
  ['grove-server2', 'subscribe', `grove/v1/${C}/#`, false],
  [undefined, 'subscribe', `${N}/pi-1/target`, false],
  ['', 'publish', `${N}/pi-1/status`, false],
  // The network view: every node reads it, none writes it; other clusters' stay closed.
  ['node.pi-1', 'subscribe', `grove/v1/${C}/network/#`, true],
  ['node.pi-1', 'subscribe', `grove/v1/${C}/network/services/default/web`, true],
  ['node.pi-1', 'publish', `grove/v1/${C}/network/cluster`, false],
  ['node.pi-1', 'publish', `grove/v1/${C}/network/services/default/web`, false],
  ['node.pi-1', 'subscribe', `grove/v1/${C}/network`, false],
  ['node.pi-1', 'subscribe', `grove/v1/other/network/#`, false],
  ['node.pi-1', 'subscribe', `grove/v1/${C}/networkx/#`, false],
];

describe('authorize', () => {
  it.each(matrix)('%s %s %s → %s', (username, action, topic, allowed) => {
    expect(authorize({ username, action, topic, cluster: C })).toBe(allowed);
  });

  it('refuses everything for an invalid cluster name and for empty or NUL topics', () => {
    expect(authorize({ username: S, action: 'subscribe', topic: 'grove/v1/+/#', cluster: '+' })).toBe(false);
    expect(authorize({ username: S, action: 'subscribe', topic: '#', cluster: '#' })).toBe(false);
    expect(authorize({ username: S, action: 'publish', topic: '', cluster: C })).toBe(false);
    expect(authorize({ username: S, action: 'publish', topic: `grove/v1/${C}/a\u0000b`, cluster: C })).toBe(false);
  });

  it('lists the exact node topics per action', () => {
    expect(nodeTopicsFor(C, 'pi-1', 'subscribe')).toEqual([`${N}/pi-1/target`, `${N}/pi-1/rpc/req`, `${N}/pi-1/config`]);
    expect(nodeTopicsFor(C, 'pi-1', 'publish')).toEqual([`${N}/pi-1/status`, `${N}/pi-1/presence`, `${N}/pi-1/rpc/res`]);
  });
});
