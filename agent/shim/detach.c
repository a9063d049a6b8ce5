#include "detach.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

void ensure_std_fds(void)
{
	int fd;
	do {
		fd = open("/dev/null", O_RDWR);
	} while (fd >= 0 && fd <= 2);
	if (fd > 2)
		close(fd);
}

static void null_std_fds(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

int detach(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		/* The agent's child waits for the intermediate so its exit status means something. */
		int status = 0;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	/* New session: a signal to the agent's process group (or its terminal) never reaches us. */
	if (setsid() < 0) {
		sync_error("setup", "setsid failed");
		_exit(1);
	}
	pid = fork();
	if (pid < 0) {
		sync_error("setup", "fork failed");
		_exit(1);
	}
	if (pid > 0)
		_exit(0); /* the grandchild is orphaned: reparented to init or a subreaper */
	/* Not a session leader any more, so opening a tty can never make it our controlling one. */
	if (chdir("/") < 0)
		_exit(1);
	null_std_fds();
	return 0;
}

static void handled_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	/* Stopping a container is `runtime kill`; these must not take the shim (and logs) down. */
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

int setup_signals(void)
{
	sigset_t set;
	handled_set(&set);
	/* A log reader going away must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

void reset_signals_for_exec(void)
{
	sigset_t empty;
	/* Blocked masks and ignored dispositions survive exec: the container must not inherit them. */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
}

void drain_signals(int sfd)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
		;
}
