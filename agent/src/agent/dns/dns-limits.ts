/**
 * Sizes the cluster DNS's sockets enforce before any message is parsed: apart from the message
 * codec (dns-message.ts), so that listening does not load dns-packet; the codec loads with the
 * first query (an idle node whose pods ask nothing never loads it).
 */

/** A query is one question: anything bigger is not one (UDP and TCP alike). */
export const MAX_QUERY_BYTES = 4096;
/** TCP messages: the two-byte length prefix's limit. */
export const MAX_TCP_MESSAGE_BYTES = 65_535;
