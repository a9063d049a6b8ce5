import { Aedes } from 'aedes';
import net from 'node:net';

/** An in-process MQTT broker (aedes, no auth) on a random loopback port, for agent tests. */
export interface TestBroker {
  url: string;
  aedes: Aedes;
  /** Idempotent: closes the broker and its listening socket. */
  stop(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  let stopped = false;
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    aedes,
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
