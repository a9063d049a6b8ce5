/**
 * PURE: what every node knows about the cluster's network (issue 15, docs/networking.md): the
 * nodes' pod CIDRs and addresses, and every Service with its endpoints. The server derives it
 * from Node, Service and EndpointSlice objects and sends it to all nodes (cluster-wide retained
 * MQTT topics); the agent keeps the last-known copy (so routes, service rules and DNS keep
 * working offline and after a reboot) and hands it to the overlay, the service proxier and the
 * DNS server, each of which programs the node from the whole view (idempotent, batched).
 */

import type { IngressView } from './ingress-view.js';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface NetworkNode {
  name: string;
  /** The node's InternalIP: VXLAN tunnel endpoint / host-gw next hop, NodePort address. */
  internalIP: string;
  /** The node's pod subnet (Node spec.podCIDR), e.g. 10.42.3.0/24; absent until allocated. */
  podCIDR?: string;
  /** The Node carries node-role.kubernetes.io/ingress=true: it runs the ingress proxy. Absent = false. */
  ingress?: boolean;
}

export interface ServicePortView {
  /** Service port name ('' when the Service has one unnamed port): EndpointView port key and SRV name. */
  name: string;
  protocol: ServiceProtocol;
  port: number;
  /** NodePort and LoadBalancer Services. */
  nodePort?: number;
}

export interface EndpointView {
  /** The pod's IP (or the node's, for a host-network pod). */
  ip: string;
  nodeName?: string;
  /** Ready per the pod's readiness (EndpointSlice conditions.ready). Only ready endpoints get traffic or DNS answers. */
  ready: boolean;
  /** Terminating pods keep existing connections; no new ones. */
  terminating?: boolean;
  /** For per-pod DNS records: spec.hostname (StatefulSets) when the pod's subdomain names the Service. */
  hostname?: string;
  /** "<namespace>/<pod name>" for diagnostics. */
  targetRef?: string;
  /** Service port name → the container port this endpoint serves it on (targetPort resolved). */
  ports: Record<string, number>;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServiceView {
  namespace: string;
  name: string;
  type: ServiceType;
  /** The virtual IP; absent for headless (`clusterIP: None`) and ExternalName Services. */
  clusterIP?: string;
  /** ExternalName: the CNAME DNS returns. */
  externalName?: string;
  /** sessionAffinity: ClientIP, with its timeout (default 10800 s as Kubernetes). */
  sessionAffinitySeconds?: number;
  ports: ServicePortView[];
  /** LoadBalancer: the nodes that open its ports (ServiceLB); absent = every node. */
  loadBalancerNodes?: string[];
  /** Whether not-ready endpoints are published too (spec.publishNotReadyAddresses). */
  publishNotReadyAddresses?: boolean;
  /**
   * The compose service's own name, lowercased, when the Service's name was derived from it
   * (`my_db` → Service `my-db`, src/core/objects/names.ts composeObjectName): cluster DNS answers
   * it too, as docker compose resolves the service name. Absent for every other Service.
   */
  composeName?: string;
  endpoints: EndpointView[];
}

export type OverlayBackend = 'vxlan' | 'host-gw' | 'none';

/** Cluster-wide, as flannel's backend: every node of a cluster must use the same. */
export interface OverlaySettings {
  backend: OverlayBackend;
  /** VXLAN network identifier (default 1) and UDP port (default 8472, flannel's and the kernel's Linux default). */
  vni: number;
  port: number;
}

export interface ClusterNetworkView {
  /** Increases with every change the server publishes (nodes or services). */
  revision: number;
  /** e.g. 10.42.0.0/16: traffic inside it is never masqueraded. */
  clusterCIDR: string;
  /** e.g. 10.43.0.0/16: ClusterIPs. */
  serviceCIDR: string;
  /** "cluster.local". */
  clusterDomain: string;
  overlay: OverlaySettings;
  nodes: NetworkNode[];
  services: ServiceView[];
  /** The Ingresses Grove serves (ingress-view.ts); only ingress nodes act on them. Absent = none. */
  ingresses?: IngressView[];
}

/** A node component that programs the host from the whole view (overlay, proxier, DNS). */
export interface NetworkViewConsumer {
  /** Called with every new view (and once at start with the last-known one); must be idempotent. */
  update(view: ClusterNetworkView): Promise<void>;
  /** Removes everything the component programmed (agent uninstall / node removal). */
  cleanup(): Promise<void>;
  /**
   * Called periodically (NetworkSync's resync period, as kube-proxy's syncPeriod): a cheap check
   * that the host still holds what was programmed (a firewall reload may have flushed it), and a
   * full reprogramming from the last view only when something is missing.
   */
  resync?(): Promise<void>;
  /**
   * The server publishes no network view (an older Grove: its targets lack `networkView`), and
   * none was ever received: work as before the cluster network existed (the pod network on the
   * node's own subnet). A view that arrives later takes over through update().
   */
  withoutClusterNetwork?(): void;
}
