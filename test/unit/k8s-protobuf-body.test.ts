/**
 * The protobuf bodies kubectl's typed clients send (`kubectl create secret generic`, `create
 * configmap --from-file`): bytes captured from kubectl v1.32, decoded to the JSON objects.
 */
import { describe, expect, it } from 'vitest';
import { isGroveError } from '../../src/core/errors.js';
import { decodeProtobufObject } from '../../src/server/k8s-api/protobuf-body.js';

/** kubectl create secret generic creds --from-literal=user=admin --type=Opaque */
const SECRET = '6b3873000a0c0a0276311206536563726574122e0a150a05637265647312001a0022002a00320038004200120d0a0475736572120561646d696e1a064f70617175651a002200';
/** kubectl create configmap cfg --from-file=app.conf ("listen 80\n") --from-literal=k=v */
const CONFIG_MAP = '6b3873000a0f0a0276311209436f6e6669674d617012350a130a0363666712001a0022002a0032003800420012160a086170702e636f6e66120a6c697374656e2038300a12060a016b1201761a002200';

describe('protobuf request bodies', () => {
  it('decodes what kubectl create secret and create configmap send', () => {
    expect(decodeProtobufObject(Buffer.from(SECRET, 'hex'))).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { user: Buffer.from('admin').toString('base64') }, type: 'Opaque' });
    expect(decodeProtobufObject(Buffer.from(CONFIG_MAP, 'hex'))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'app.conf': 'listen 80\n', k: 'v' } });
  });

  it('refuses other kinds with 415 and malformed bodies with 400', () => {
    // The Secret's envelope with typeMeta {apiVersion: v1, kind: Pod}.
    const pod = Buffer.from(`6b387300 0a09 0a027631 1203506f64 ${SECRET.slice(SECRET.indexOf('122e'))}`.replace(/ /g, ''), 'hex');
    const attempt = (b: Buffer) => {
      try {
        decodeProtobufObject(b);
        return undefined;
      } catch (err) {
        return isGroveError(err) ? err : undefined;
      }
    };
    expect(attempt(Buffer.from('{"kind":"Secret"}'))?.message).toContain('missing the k8s envelope');
    expect(attempt(Buffer.from(SECRET.slice(0, 60), 'hex'))?.message).toContain('malformed');
    const other = attempt(pod);
    expect(other?.message).toBe('protobuf bodies are understood for ConfigMap, Secret, Namespace, Service only, not "Pod": send application/json');
    expect(other?.details).toEqual({ reason: 'UnsupportedMediaType' });
  });
});
