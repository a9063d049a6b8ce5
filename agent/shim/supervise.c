#include "supervise.h"
#include "detach.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

/* A grandchild that escaped the pid namespace could hold the pipes open forever. */
#define DRAIN_MS 2000

int supervise(struct log_writer *w, struct log_stream *out, struct log_stream *err, int sfd, pid_t init_pid,
	      char *finished_at)
{
	int status = -1, exited = 0, orphan = 0;
	int64_t deadline = 0;
	for (;;) {
		/* As subreaper we inherit the runtime's leftovers too: reap everything. */
		int st;
		pid_t r;
		while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
			if (r == init_pid && !exited) {
				status = st;
				exited = 1;
				format_now(finished_at, 0);
				deadline = monotonic_ms() + DRAIN_MS;
			}
		}
		/* Should never happen (the runtime exits and the init is reparented to us), but if
		 * the init is not our child, fall back to polling whether it still exists. */
		orphan = !exited && r < 0 && errno == ECHILD;
		if (orphan && kill(init_pid, 0) < 0 && errno == ESRCH) {
			exited = 1;
			format_now(finished_at, 0);
			deadline = monotonic_ms() + DRAIN_MS;
		}
		if (exited && out->fd < 0 && err->fd < 0)
			break;
		int timeout = orphan ? 1000 : -1;
		if (exited) {
			int64_t left = deadline - monotonic_ms();
			if (left <= 0)
				break;
			timeout = (int)left;
		}
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = out->fd, .events = POLLIN },
			{ .fd = err->fd, .events = POLLIN },
		};
		/* poll ignores negative fds, so finished streams need no special casing. */
		if (poll(p, 3, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			drain_signals(sfd); /* SIGCHLD: reaped above; SIGTERM & co: ignored on purpose */
		if (p[1].revents)
			log_pump(w, out);
		if (p[2].revents)
			log_pump(w, err);
	}
	if (!exited)
		format_now(finished_at, 0); /* poll failed: report the time we gave up */
	log_stream_finish(w, out);
	log_stream_finish(w, err);
	return status;
}
