import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { markIfFresh, storeIsCurrent } from '../../server/migrate/store-schema.js';
import { ControlPlane } from '../../server/server.js';
import { startApiServer } from '../../server/api.js';
import { startEmbeddedBroker } from '../../server/broker/embedded-broker.js';
import { defaultServerHosts, ensureClusterCa, ensureServerCert } from '../../server/security/ca.js';
import { createAuthenticator, ensureServerCredentials, nodeUsername, storeNodeLookup } from '../../server/security/credentials.js';
import { openSealedStore, serverStoreCheck } from './sealed-store-setup.js';
import { listCommand, openRoleStore, serverStorePath } from './store-fsck.js';
import { parseBrokerUrls } from '../../core/broker-urls.js';
import { ErrorCode, GroveError } from '../../core/errors.js';
import { loadBrokerCredentials } from './broker-credentials.js';
import { writeClientConfig, clientConfigPath, type ClientConfig } from '../client/client-config.js';
import { writeFileAtomic } from '../../store/durable-file.js';
import type { CliContext } from '../context.js';
import { tuneDaemonHeap } from './daemon-heap.js';
import { survivingStreamErrors } from '../../core/log-destination.js';
import { mosquittoSync } from './mosquitto-sync.js';
import { ensureLocalJoin } from './local-join.js';
import { startNodeAgent } from './node-agent.js';
import { advertisedHost, ensureClusterName, ensurePrivateDir, ensureSecretFile, localHost, refuseClusterNameLoss, urlHost } from './server-setup.js';
import { warnIfOverFdLimit } from './fd-budget.js';
import { serviceNotify } from './service-notify.js';
import { untilSignal } from './signals.js';
import { hostPathRootsOption } from './host-path-roots.js';
import { explainListenError } from './listen-error.js';
import { systemClock } from '../../core/clock.js';
import { networkSettings, type NetworkSettingsInput } from '../../server/network/network-settings.js';
import { packageVersion } from '../package-root.js';
import type { Values } from '../config/option.js';
import type { SERVER_OPTIONS } from '../config/role-options.js';
import { renderConfig } from '../config/print-config.js';
import { address } from '../config/units.js';
import { writeLine } from '../io.js';

export async function runServer(ctx: CliContext, o: Values<typeof SERVER_OPTIONS>): Promise<number> {
  if (o.printConfig) {
    writeLine(ctx.io.stdout, renderConfig(ctx.config));
    return 0;
  }
  // Bad ranges, node ports or domain stop the start before anything is opened or written (the
  // control plane parses the same input again; this is the one place it is checked first).
  const network: NetworkSettingsInput = {
    clusterCIDR: o.clusterCidr,
    nodeMaskSize: o.nodeCidrMaskSize,
    serviceCIDR: o.serviceCidr,
    serviceNodePortRange: o.serviceNodePortRange,
    clusterDomain: o.clusterDomain,
    overlay: { backend: o.flannelBackend, vni: o.vxlanVni, port: o.vxlanPort },
  };
  networkSettings(network);
  tuneDaemonHeap(o.v8Tuning);
  // A full disk under its log file must not stop a daemon (logger: see core/log-destination.ts).
  for (const stream of [ctx.io.stdout, ctx.io.stderr]) survivingStreamErrors(stream);
  const { logger, dataDir } = ctx;
  const log = logger.child({ component: 'server' });
  const { apiAddr, mqttAddr } = o;
  const clock = systemClock();
  const roots = hostPathRootsOption(o.hostPathRoot);
  const apiConnections = o.maxApiConnections;
  // Only the embedded broker's sockets live in this process.
  const mqttConnections = o.mqttUrl ? undefined : o.mqttMaxConnections;
  await warnIfOverFdLimit(log, { apiConnections, ...(mqttConnections !== undefined ? { mqttConnections } : {}) });
  const serverDir = join(dataDir, 'server');
  await ensurePrivateDir(serverDir);
  // Refuses to start on missing commits; quarantines corrupt entries (docs/reliability.md).
  const { store: rawStore, quarantined } = await openRoleStore(
    { role: 'server', path: serverStorePath(dataDir), check: () => serverStoreCheck(serverDir) },
    logger,
    (problems) => refuseClusterNameLoss(problems.map((p) => p.key), o.cluster),
  );
  const cleanup: (() => Promise<unknown>)[] = [() => rawStore.close()];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'shutdown step failed'));
  };
  try {
    // Secrets and node keys are sealed with <data-dir>/server/secrets.key (sealed-store.ts).
    const { store, secretKey } = await openSealedStore(rawStore, serverDir, log);
    // A 0.1 data dir becomes the object layout here, in one commit (docs/operations.md); the
    // migration's code loads only then.
    if (!(await storeIsCurrent(rawStore)) && !(await markIfFresh(rawStore))) await (await import('../../server/migrate/upgrade-store.js')).upgradeStoreAtStart(rawStore, { secretKey, context: { now: new Date(clock.now()), newUid: randomUUID }, log });
    const cluster = await ensureClusterName(store, o.cluster);
    const adminToken = await ensureSecretFile(join(serverDir, 'admin-token'));
    const advertise = advertisedHost(apiAddr.host, o.advertiseAddr);
    const ca = o.tls ? await ensureClusterCa(serverDir, { logger }) : undefined;
    const cert = ca ? await ensureServerCert(serverDir, ca, { hosts: [...defaultServerHosts(), advertise], logger }) : undefined;
    const external = o.brokerCredentials ? await loadBrokerCredentials(o.brokerCredentials) : undefined;
    if (external && !o.mqttUrl) throw new GroveError(ErrorCode.InvalidArgument, '--broker-credentials needs --mqtt-url (it is for an external broker)');
    const managedCreds = external ? undefined : await ensureServerCredentials(dataDir, { logger });
    const serverCreds = external?.server ?? managedCreds!;
    const scheme = cert ? 'mqtts' : 'mqtt';

    let brokerUrl: string;
    let brokerUrlForNodes: string;
    let brokerUrls: string[] | undefined;
    let registerNode: ((r: { username: string; password: string }) => Promise<void>) | undefined;
    let onNodeDeleted: ((node: string) => void) | undefined;
    let afterStart: ((cp: ControlPlane) => void) | undefined;
    if (o.mqttUrl && external) {
      // A broker with its own user list (NATS, EMQX): nothing to write, nothing to reload.
      brokerUrls = parseBrokerUrls(o.mqttUrl);
      brokerUrl = brokerUrls[0]!;
      brokerUrlForNodes = brokerUrl;
    } else if (o.mqttUrl) {
      brokerUrl = o.mqttUrl;
      brokerUrlForNodes = brokerUrl;
      const url = new URL(brokerUrl);
      const sync = mosquittoSync({
        dir: o.mosquittoDir ?? join(serverDir, 'mosquitto'),
        cluster,
        store,
        server: managedCreds!,
        listener: { host: url.hostname, port: Number(url.port || 1883) },
        ...(cert ? { tls: cert } : {}),
        ...(o.mosquittoPidFile ? { pidFile: o.mosquittoPidFile } : {}),
        ...(o.mosquittoUser ? { runAsUser: o.mosquittoUser } : {}),
        logger,
      });
      await sync.writeAll();
      cleanup.push(async () => sync.close());
      registerNode = sync.onJoin;
      afterStart = (cp) => sync.setRoundTrip(() => cp.brokerRoundTrip());
    } else {
      const broker = await startEmbeddedBroker({
        maxConnections: mqttConnections!,
        host: mqttAddr.host,
        port: mqttAddr.port,
        ...(cert ? { tls: cert } : {}),
        cluster,
        authenticate: createAuthenticator(managedCreds!, storeNodeLookup(store)),
        logger,
      }).catch((err: unknown) => {
        throw explainListenError(err, '--mqtt-addr', address.format(mqttAddr));
      });
      cleanup.push(() => broker.close());
      // Authentication runs only at CONNECT: a deleted node's open session is ended at once.
      onNodeDeleted = (node) => void broker.disconnect(nodeUsername(node));
      brokerUrl = `${scheme}://${urlHost(localHost(mqttAddr.host))}:${broker.port}`;
      brokerUrlForNodes = `${scheme}://${urlHost(advertise)}:${broker.port}`;
    }

    // A rotated admin token goes where a restarted server and the local client verbs read it.
    let clientConfig: ClientConfig | undefined;
    const persistAdminToken = async (token: string): Promise<void> => {
      await writeFileAtomic(join(serverDir, 'admin-token'), token + '\n', 0o600);
      if (clientConfig) await writeClientConfig(dataDir, (clientConfig = { ...clientConfig, token }));
    };
    const controlPlane = new ControlPlane({
      store,
      cluster,
      mqtt: { url: brokerUrl, ...(brokerUrls ? { urls: brokerUrls } : {}), username: serverCreds.username, password: serverCreds.password, ...(ca ? { ca: ca.caCertPem } : {}) },
      logger,
      adminToken,
      ...(ca ? { caFingerprint: ca.fingerprint, caCertPem: ca.caCertPem, ca } : {}),
      brokerUrlForNodes,
      ...(brokerUrls ? { brokerUrlsForNodes: brokerUrls } : {}),
      ...(external ? { nodeMqttCredentials: external.node } : {}),
      ...(registerNode ? { registerNode } : {}),
      ...(onNodeDeleted ? { onNodeDeleted } : {}),
      persistAdminToken,
      nodeGraceMs: o.nodeGrace,
      evictionTimeoutMs: o.evictionTimeout,
      network,
      clock,
      ...roots,
    });
    await controlPlane.start();
    cleanup.push(() => controlPlane.stop());
    afterStart?.(controlPlane);
    const api = await startApiServer({ host: apiAddr.host, port: apiAddr.port, ...(cert ? { tls: cert } : {}), controlPlane, logger, maxJoinsInFlight: o.maxJoinsInFlight, maxConnections: apiConnections, groveVersion: packageVersion() }).catch((err: unknown) => {
      throw explainListenError(err, '--api-addr', address.format(apiAddr));
    });
    cleanup.push(() => api.close());
    const port = new URL(api.url).port;
    const localApiUrl = `${cert ? 'https' : 'http'}://${urlHost(localHost(apiAddr.host))}:${port}`;
    clientConfig = { apiUrl: localApiUrl, token: controlPlane.adminToken, ...(ca ? { caCert: ca.caCertPem } : {}) };
    await writeClientConfig(dataDir, clientConfig);

    let localAgentHealthy = () => true;
    if (o.agent !== false) {
      const joined = await ensureLocalJoin({
        dataDir,
        objects: controlPlane.objects,
        cluster,
        nodeName: o.nodeName,
        labels: { ...o.label },
        serverUrl: localApiUrl,
        brokerUrl,
        ...(ca ? { caFingerprint: ca.fingerprint, caCertPem: ca.caCertPem } : {}),
        ...(registerNode ? { registerNode } : {}),
      });
      // With a broker of its own users, the local agent logs in like every other node.
      if (external) joined.mqtt = { ...joined.mqtt, ...external.node, ...(brokerUrls ? { urls: brokerUrls } : {}) };
      const agent = await startNodeAgent({ dataDir, join: joined, logger, settings: o, searchPath: ctx.host.searchPath });
      cleanup.push(() => agent.stop());
      localAgentHealthy = () => agent.agent.healthy();
    }
    log.info({ cluster, api: `${cert ? 'https' : 'http'}://${urlHost(advertise)}:${port}`, mqtt: brokerUrlForNodes, clientConfig: clientConfigPath(dataDir) }, 'grove server ready');
    const shown = quarantined.slice(0, 5).join(', ') + (quarantined.length > 5 ? ', …' : '');
    const quarantineNote = quarantined.length > 0 ? `; ${quarantined.length} corrupt store entries quarantined (${shown}; \`${listCommand('server')}\` lists them)` : '';
    ctx.io.stderr.write(`grove server ready: cluster ${cluster}, API ${localApiUrl}, MQTT ${brokerUrlForNodes}, client config ${clientConfigPath(dataDir)}${quarantineNote}\n`);
    // The server's keepalive: its event loop runs the timer, and its local agent's loop must be moving.
    const systemd = serviceNotify(ctx.host.notify, o.shim, logger, () => localAgentHealthy());
    systemd.ready(`cluster ${cluster}, API ${localApiUrl}`);
    await untilSignal();
    systemd.stopping();
    log.info('shutting down (containers keep running)');
    return 0;
  } finally {
    await stopAll();
  }
}
