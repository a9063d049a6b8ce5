/* The shim's steady state: copy the container's output to the log, wait for its exit. */
#ifndef GROVE_SUPERVISE_H
#define GROVE_SUPERVISE_H

#include <sys/types.h>

#include "logs.h"

/* Returns the init's waitpid status (-1 if it could not be collected) once it has exited
 * and its pipes are drained (or the drain deadline passed); finished_at[TIME_BUF] gets the
 * time it exited, not the (up to 2 s later) time we finished draining. */
int supervise(struct log_writer *w, struct log_stream *out, struct log_stream *err, int sfd, pid_t init_pid,
	      char *finished_at);

#endif
