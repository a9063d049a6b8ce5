/* `grove-shim sd-notify`: relays sd_notify(3) messages for the (socketless) Node.js agent. */
#ifndef GROVE_SDNOTIFY_H
#define GROVE_SDNOTIFY_H

/* Reads one message per line on stdin and sends each as one datagram to $NOTIFY_SOCKET.
 * Returns the process exit code: 0 on EOF, 2 on a usage or socket error. */
int sdnotify_main(void);

#endif
