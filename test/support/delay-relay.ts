/**
 * Test-only: a TCP relay from listenHost:port to 127.0.0.1:port that holds every chunk for
 * `delayMs` in each direction. It stands in for `tc netem delay` on kernels built without
 * sch_netem: the delay is per chunk rather than per packet, so TCP's own timers see the short
 * link underneath, but the application (MQTT keepalive, heartbeats, the node grace) sees the
 * same latency. Order is kept: equal timeouts fire in the order they were set.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface DelayRelay {
  delayMs: number;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, relay: DelayRelay): void {
  from.on('data', (chunk: Buffer) => {
    const send = () => to.writable && to.write(chunk);
    if (relay.delayMs > 0) setTimeout(send, relay.delayMs);
    else send();
  });
  from.on('end', () => setTimeout(() => to.end(), relay.delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), relay.delayMs + 10));
}

export async function startDelayRelay(listenHost: string, ports: number[]): Promise<DelayRelay> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const relay: DelayRelay = {
    delayMs: 0,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    },
  };
  for (const port of ports) {
    const srv = createServer((inbound) => {
      const outbound = connect(port, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      }
      pipeDelayed(inbound, outbound, relay);
      pipeDelayed(outbound, inbound, relay);
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, listenHost, () => resolve());
    });
    servers.push(srv);
  }
  return relay;
}
