/**
 * Service virtual IPs and node ports, allocated inside the object store's commit (under its
 * lock, atomic with the write: object-store.ts WriteHook), as Kubernetes' API server allocates
 * them in its registry. What is taken is read from the stored Services themselves, so a delete
 * releases by removing the object and no allocation record can drift from the objects.
 *
 * - clusterIP: the one asked for must lie in --service-cidr and be free; else the first free
 *   address after the network address (the broadcast address is never handed out). "None"
 *   (headless) and ExternalName get none. Immutable once set; an update without it keeps it
 *   (kubectl apply of the original manifest), as Kubernetes' patchAllocatedValues does.
 * - nodePort (NodePort, LoadBalancer): the one asked for must lie in
 *   --service-node-port-range and not be another Service's; else the first free one. An update
 *   without it keeps the port's current one (matched by port and protocol).
 * - clusterIPs, ipFamilies, ipFamilyPolicy follow the clusterIP, as Kubernetes fills them.
 */
import type { Service, ServicePort } from '../../core/objects/service.js';
import { cidrContains, ipv4ToNumber, numberToIpv4, type Ipv4Cidr } from '../../core/network/ipv4.js';
import { invalidObject, type Cause } from '../objects/admit.js';
import type { WriteHook, WriteSession } from '../objects/object-store.js';

export interface PortRange {
  first: number;
  last: number;
}

export interface ServiceAllocationSettings {
  serviceCIDR: Ipv4Cidr;
  nodePorts: PortRange;
}

function key(svc: Service): string {
  return `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
}

const hasNodePorts = (svc: Service) => svc.spec?.type === 'NodePort' || (svc.spec?.type === 'LoadBalancer' && svc.spec.allocateLoadBalancerNodePorts !== false);

/** What one commit holds taken: addresses and ports, each by the Service that has it. */
class Allocations implements WriteSession<Service> {
  private readonly ips = new Map<number, string>();
  private readonly ports = new Map<number, string>();
  /** Where the next search starts: allocation is sequential, so a burst of creates is O(n). */
  private nextIp: number;
  private nextPort: number;

  constructor(private readonly settings: ServiceAllocationSettings, stored: readonly Service[]) {
    for (const svc of stored) this.take(svc);
    this.nextIp = settings.serviceCIDR.base + 1;
    this.nextPort = settings.nodePorts.first;
  }

  private take(svc: Service): void {
    const ip = svc.spec?.clusterIP ? ipv4ToNumber(svc.spec.clusterIP) : undefined;
    if (ip !== undefined) this.ips.set(ip, key(svc));
    for (const p of svc.spec?.ports ?? []) if (p.nodePort !== undefined) this.ports.set(p.nodePort, key(svc));
  }

  released(svc: Service): void {
    const ip = svc.spec?.clusterIP ? ipv4ToNumber(svc.spec.clusterIP) : undefined;
    if (ip !== undefined && this.ips.get(ip) === key(svc)) this.ips.delete(ip);
    for (const p of svc.spec?.ports ?? []) if (p.nodePort !== undefined && this.ports.get(p.nodePort) === key(svc)) this.ports.delete(p.nodePort);
  }

  put(next: Service, existing: Service | undefined): Service {
    const causes: Cause[] = [];
    const spec = { ...next.spec };
    const me = key(next);
    if (existing) this.released(existing);
    const external = spec.type === 'ExternalName';
    // An update that leaves the address out keeps it (kubectl apply of the original manifest).
    const kept = existing?.spec?.type === 'ExternalName' ? undefined : existing?.spec?.clusterIP;
    const asked = spec.clusterIP || (external ? undefined : kept);
    if (external) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    } else if (kept !== undefined && asked !== kept) {
      causes.push({ field: 'spec.clusterIP', message: `Invalid value: "${asked}": field is immutable` });
    } else if (asked === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
    } else {
      const ip = this.clusterIP(asked, me, causes);
      if (ip) {
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
    }
    if (spec.type !== 'ExternalName') {
      spec.ipFamilies = ['IPv4'];
      spec.ipFamilyPolicy = 'SingleStack';
    }
    if (spec.ports) spec.ports = spec.ports.map((p, i) => this.nodePort(p, i, next, existing, causes));
    if (causes.length) {
      if (existing) this.take(existing);
      throw invalidObject('Service', next.metadata.name, causes);
    }
    const out: Service = { ...next, spec };
    this.take(out);
    return out;
  }

  private clusterIP(asked: string | undefined, me: string, causes: Cause[]): string | undefined {
    const cidr = this.settings.serviceCIDR;
    if (asked !== undefined) {
      const n = ipv4ToNumber(asked)!;
      const owner = this.ips.get(n);
      if (!cidrContains(cidr, n)) causes.push({ field: 'spec.clusterIPs[0]', message: `Invalid value: "${asked}": failed to allocate IP ${asked}: the provided IP (${asked}) is not in the valid range. The range of valid IPs is ${cidr.text}` });
      else if (owner !== undefined && owner !== me) causes.push({ field: 'spec.clusterIPs[0]', message: `Invalid value: "${asked}": failed to allocate IP ${asked}: provided IP is already allocated` });
      else return asked;
      return undefined;
    }
    const first = cidr.base + 1;
    const last = cidr.base + cidr.size - 2;
    for (let i = 0, n = this.nextIp; i <= last - first; i++, n = n >= last ? first : n + 1) {
      if (!this.ips.has(n)) {
        this.nextIp = n >= last ? first : n + 1;
        return numberToIpv4(n);
      }
    }
    causes.push({ field: 'spec.clusterIPs[0]', message: `failed to allocate a service IP: the range ${cidr.text} is full` });
    return undefined;
  }

  private nodePort(p: ServicePort, i: number, next: Service, existing: Service | undefined, causes: Cause[]): ServicePort {
    if (!hasNodePorts(next)) return p;
    const range = this.settings.nodePorts;
    const me = key(next);
    const field = `spec.ports[${i}].nodePort`;
    let asked = p.nodePort;
    if (asked === undefined && existing && hasNodePorts(existing)) {
      asked = existing.spec?.ports?.find((e) => e.port === p.port && (e.protocol ?? 'TCP') === (p.protocol ?? 'TCP'))?.nodePort;
    }
    if (asked !== undefined) {
      const owner = this.ports.get(asked);
      if (asked < range.first || asked > range.last) causes.push({ field, message: `Invalid value: ${asked}: provided port is not in the valid range. The range of valid ports is ${range.first}-${range.last}` });
      else if (owner !== undefined && owner !== me) causes.push({ field, message: `Invalid value: ${asked}: provided port is already allocated` });
      else {
        this.ports.set(asked, me);
        return { ...p, nodePort: asked };
      }
      return p;
    }
    const count = range.last - range.first + 1;
    for (let k = 0, n = this.nextPort; k < count; k++, n = n >= range.last ? range.first : n + 1) {
      if (!this.ports.has(n)) {
        this.ports.set(n, me);
        this.nextPort = n >= range.last ? range.first : n + 1;
        return { ...p, nodePort: n };
      }
    }
    causes.push({ field, message: `failed to allocate a node port: the range ${range.first}-${range.last} is full` });
    return p;
  }
}

/** The object store's hook for Services: allocation atomic with the write. */
export function serviceAllocationHook(settings: ServiceAllocationSettings): WriteHook<'Service'> {
  return { kind: 'Service', begin: (stored) => new Allocations(settings, stored) };
}
