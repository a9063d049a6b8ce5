/**
 * mqtt-packet (the encoder under both mqtt.js and aedes) by default builds, on its first write,
 * a cache of all 65,536 two-byte packet numbers as separate Buffers and keeps it for the life of
 * the process: ~6 MiB of heap in every Grove daemon, to save one 2-byte allocation per packet
 * id. A daemon sends a few packets a minute, so it writes numbers as they come instead. The
 * switch is the module's own and process-wide; it must be set before the first packet is
 * written (the cache, once built, is never freed). mqtt.js clients set it with the option
 * `writeCache: false` (PACKET_NUMBERS_UNCACHED); the embedded broker calls this before listening.
 */
import mqttPacket from 'mqtt-packet';

/** The mqtt.js client option that switches the cache off (set in the client's constructor). */
export const PACKET_NUMBERS_UNCACHED = { writeCache: false } as const;

export function writePacketNumbersUncached(): void {
  mqttPacket.writeToStream.cacheNumbers = false;
}
