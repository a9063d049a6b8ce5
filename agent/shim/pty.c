/*
 * `grove-shim pty ROWS COLS PROG [ARG...]`: runs PROG with a new pseudo-terminal as its
 * controlling terminal and stdio, and relays the terminal to the caller's pipes: fd 0 → the
 * terminal, the terminal → fd 1. Lines "ROWS COLS\n" on fd 3 (when open) resize the terminal,
 * which sends SIGWINCH to whatever runs on it. Exits with PROG's exit code (128 + n when
 * signal n killed it).
 *
 * The agent runs `runc exec --tty` (or crun's) under it for `kubectl exec -t`: Node cannot make
 * a terminal, and the runtime relays its own terminal (this one) to the container's, raw,
 * passing our size on at each SIGWINCH.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pty.h"
#include "util.h"

#define BUF 16384
#define MAX_CELLS 10000

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int usage(void)
{
	static const char msg[] = "usage: grove-shim pty ROWS COLS PROG [ARG...]\n";
	write_all(2, msg, sizeof msg - 1);
	return 2;
}

static int fail(const char *what)
{
	const char *why = strerror(errno);
	write_all(2, "grove-shim pty: ", 16);
	write_all(2, what, strlen(what));
	write_all(2, ": ", 2);
	write_all(2, why, strlen(why));
	write_all(2, "\n", 1);
	return 125;
}

static int set_size(int master, const char *rows, const char *cols)
{
	uint64_t r, c;
	if (parse_u64(rows, 0, MAX_CELLS, &r) < 0 || parse_u64(cols, 0, MAX_CELLS, &c) < 0)
		return -1;
	struct winsize ws = { .ws_row = (unsigned short)r, .ws_col = (unsigned short)c };
	return ioctl(master, TIOCSWINSZ, &ws);
}

/* Applies every complete "ROWS COLS\n" line in buf; keeps a partial one. */
static void apply_resizes(int master, char *buf, size_t *len)
{
	char *start = buf, *nl;
	while ((nl = memchr(start, '\n', *len - (size_t)(start - buf))) != NULL) {
		*nl = '\0';
		char *space = strchr(start, ' ');
		if (space) {
			*space = '\0';
			set_size(master, start, space + 1);
		}
		start = nl + 1;
	}
	size_t rest = *len - (size_t)(start - buf);
	memmove(buf, start, rest);
	*len = rest;
	if (*len >= 64) /* no line is this long: drop the garbage */
		*len = 0;
}

static void child(int slave, char **argv)
{
	setsid();
	ioctl(slave, TIOCSCTTY, 0);
	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	if (slave > 2)
		close(slave);
	close(3);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	_exit(errno == ENOENT ? 127 : 126);
}

int pty_main(int argc, char **argv)
{
	if (argc < 5)
		return usage();
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return fail("opening a pseudo-terminal");
	char slave_name[64];
	if (ptsname_r(master, slave_name, sizeof slave_name) != 0)
		return fail("naming the pseudo-terminal");
	if (set_size(master, argv[2], argv[3]) < 0)
		return usage();
	/* Opened before the fork and inherited: the master never sees a moment with no terminal
	 * open (it would read EIO and end the relay before the command started). */
	int slave = open(slave_name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		return fail("opening the terminal");
	int control = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
	if (control >= 0)
		fcntl(control, F_SETFD, FD_CLOEXEC);

	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0)
		child(slave, argv + 4);
	close(slave);
	child_pid = pid;
	struct sigaction sa = { .sa_handler = forward_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	set_nonblock(master);

	static char in[BUF], out[BUF];
	char ctl[64];
	size_t in_len = 0, in_off = 0, ctl_len = 0;
	int in_open = 1, master_open = 1;
	while (master_open) {
		struct pollfd p[3];
		int n = 0, i_in = -1, i_ctl = -1;
		int i_master = n;
		p[n].fd = master;
		p[n].events = POLLIN | (in_len > in_off ? POLLOUT : 0);
		n++;
		if (in_open && in_len == in_off) {
			i_in = n;
			p[n].fd = 0;
			p[n].events = POLLIN;
			n++;
		}
		if (control >= 0) {
			i_ctl = n;
			p[n].fd = control;
			p[n].events = POLLIN;
			n++;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[i_master].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(master, out, sizeof out);
			if (r > 0) {
				if (write_all(1, out, (size_t)r) < 0)
					forward_signal(SIGHUP); /* nobody reads us any more */
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				master_open = 0; /* EIO: every holder of the terminal is gone */
			}
		}
		if ((p[i_master].revents & POLLOUT) && in_len > in_off) {
			ssize_t w = write(master, in + in_off, in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (in_off == in_len)
				in_off = in_len = 0;
		}
		if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(0, in, sizeof in);
			if (r > 0) {
				in_len = (size_t)r;
				in_off = 0;
			} else if (r == 0 || errno != EINTR) {
				in_open = 0;
			}
		}
		if (i_ctl >= 0 && (p[i_ctl].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(control, ctl + ctl_len, sizeof ctl - ctl_len);
			if (r > 0) {
				ctl_len += (size_t)r;
				apply_resizes(master, ctl, &ctl_len);
			} else if (r == 0 || errno != EINTR) {
				close(control);
				control = -1;
			}
		}
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fail("waitpid");
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}
