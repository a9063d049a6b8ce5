/**
 * Named container ports where a probe or lifecycle hook names one (`port: http`): the kubelet
 * resolves the name among the same container's ports. One resolver for the object rules (a
 * name the container lacks is refused at apply) and the node (which dials the number).
 */

/** Kubernetes' IANA_SVC_NAME: at most 15 lowercase letters, digits and '-', at least one letter. */
export const PORT_NAME = '^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

interface NamedPorts {
  ports?: readonly { name?: string; containerPort: number }[];
}

/** The number `port` stands for in `container`: itself, or its named port's; undefined for a name it lacks. */
export function containerPortNumber(container: NamedPorts, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Every handler port of a container that may be a name, with its path under the container. */
export function handlerPorts(c: {
  livenessProbe?: ProbeLike;
  readinessProbe?: ProbeLike;
  startupProbe?: ProbeLike;
  lifecycle?: { preStop?: ProbeLike; postStart?: ProbeLike };
}): { path: (string | number)[]; port: number | string }[] {
  const out: { path: (string | number)[]; port: number | string }[] = [];
  const add = (at: (string | number)[], h: ProbeLike | undefined) => {
    if (h?.httpGet) out.push({ path: [...at, 'httpGet', 'port'], port: h.httpGet.port });
    if (h?.tcpSocket) out.push({ path: [...at, 'tcpSocket', 'port'], port: h.tcpSocket.port });
  };
  add(['livenessProbe'], c.livenessProbe);
  add(['readinessProbe'], c.readinessProbe);
  add(['startupProbe'], c.startupProbe);
  add(['lifecycle', 'preStop'], c.lifecycle?.preStop);
  add(['lifecycle', 'postStart'], c.lifecycle?.postStart);
  return out;
}

interface ProbeLike {
  httpGet?: { port: number | string };
  tcpSocket?: { port: number | string };
}
