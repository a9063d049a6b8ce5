/*
 * `grove-shim init -- PROG [ARG...]`, run INSIDE a container as its PID 1 (compose `init: true`,
 * docker --init): starts PROG as its child, forwards the signals a stop or `kill` sends to it,
 * reaps every orphan that the kernel reparents to PID 1 (so zombies do not pile up under
 * programs that never wait), and exits with PROG's status (128+N when a signal killed it).
 * A process that is PID 1 gets no default signal actions, which is why a plain program as PID 1
 * often ignores SIGTERM: here the child is not PID 1, so its defaults apply.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "util.h"

static const int FORWARDED[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPWR };
#define N_FORWARDED (sizeof FORWARDED / sizeof FORWARDED[0])

static void say(const char *what, const char *arg)
{
	report_errno("grove-shim init", what, arg);
}

int init_main(int argc, char **argv)
{
	int first = 2;
	if (argc > first && !strcmp(argv[first], "--"))
		first++;
	if (argc <= first) {
		static const char usage[] = "usage: grove-shim init [--] PROG [ARG...]\n";
		write_all(2, usage, sizeof usage - 1);
		return 2;
	}
	/* Block the forwarded signals (and SIGCHLD) and take them one by one with sigwaitinfo. */
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, FORWARDED[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* Orphans come to us even when we are not PID 1 (a pod sharing the host's PID namespace). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	pid_t child = fork();
	if (child < 0) {
		say("fork for ", argv[first]);
		return 127;
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* Its own process group, so a terminal-less stop reaches the whole job through -pgid. */
		setpgid(0, 0);
		execvp(argv[first], argv + first);
		say("exec ", argv[first]);
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(child, child);

	int status = 0;
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&set, &info);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			say("waiting for signals", "");
			return 127;
		}
		if (sig != SIGCHLD) {
			/* The group first (the job's helpers stop too), the child itself if it left it. */
			if (kill(-child, sig) < 0)
				kill(child, sig);
			continue;
		}
		/* Reap everything that ended: the child and any orphan reparented to us. */
		for (;;) {
			int st;
			pid_t done = waitpid(-1, &st, WNOHANG);
			if (done <= 0)
				break;
			if (done == child) {
				status = st;
				goto out;
			}
		}
	}
out:
	/* What the child left behind is signalled once so the container can end. */
	kill(-child, SIGTERM);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
