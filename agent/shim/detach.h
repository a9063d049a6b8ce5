/* Leaving the agent's process tree so that the container outlives the agent. */
#ifndef GROVE_DETACH_H
#define GROVE_DETACH_H

/* Makes sure fds 0-2 are open so no later open() lands on them. */
void ensure_std_fds(void);
/* Double fork + setsid; returns in the grandchild only. -1 (in the caller) if fork fails. */
int detach(void);
/* Blocks the signals we handle, returns a signalfd for them; ignores SIGPIPE. */
int setup_signals(void);
/* What runtime children do before exec: default signal mask and dispositions. */
void reset_signals_for_exec(void);
/* Empties a nonblocking signalfd; we only care that something happened. */
void drain_signals(int sfd);

#endif
