/** `grove describe app`: the pod's volumes and each container's mounts (never a Secret's values). */
import type { Volume, VolumeMount } from '../../../core/model.js';

export function volumeText(v: Volume): string {
  if ('emptyDir' in v) return `${v.name}: emptyDir${v.emptyDir.medium ? ' (Memory)' : ''}${v.emptyDir.sizeLimitBytes ? `, limit ${v.emptyDir.sizeLimitBytes} bytes` : ''}`;
  if ('hostPath' in v) return `${v.name}: hostPath ${v.hostPath.path}${v.hostPath.type ? ` (${v.hostPath.type})` : ''}`;
  if ('persistentVolumeClaim' in v) return `${v.name}: named volume ${v.persistentVolumeClaim.claimName}${v.persistentVolumeClaim.readOnly ? ' (ro)' : ''}`;
  if ('configMap' in v) return `${v.name}: configMap ${v.configMap.name}${v.configMap.optional ? ' (optional)' : ''}`;
  return `${v.name}: secret ${v.secret.secretName}${v.secret.optional ? ' (optional)' : ''}`;
}

export function mountText(m: VolumeMount): string {
  return `${m.name} → ${m.mountPath}${m.subPath ? ` (subPath ${m.subPath})` : ''}${m.readOnly ? ' ro' : ''}`;
}
