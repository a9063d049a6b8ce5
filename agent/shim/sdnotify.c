/*
 * `grove-shim sd-notify`: Node.js has no AF_UNIX datagram sockets, so the agent keeps this one
 * small process and writes sd_notify messages to it, one per line ("READY=1", "WATCHDOG=1",
 * "STOPPING=1"). Each line goes to $NOTIFY_SOCKET as one datagram, right away: the agent decides
 * when a keepalive is due (from its main loop), this relay never sends on its own, so a stuck
 * agent stops the keepalives and systemd's WatchdogSec restarts it.
 *
 * systemd with NotifyAccess=main only accepts messages from the service's main PID. Like
 * sd_pid_notify(3), the datagram carries SCM_CREDENTIALS naming the parent (the agent); that
 * needs CAP_SYS_ADMIN, so without it the message is sent with our own credentials instead
 * (then the unit needs NotifyAccess=all). The relay exits on EOF, i.e. when the agent dies.
 */
#include "sdnotify.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MSG_MAX 4096

static int send_as(int fd, const struct sockaddr_un *sa, socklen_t salen, const char *msg, size_t len, pid_t pid)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct msghdr mh = { .msg_name = (void *)sa, .msg_namelen = salen, .msg_iov = &iov, .msg_iovlen = 1 };
	if (pid > 0) {
		struct cmsghdr *cm;
		struct ucred cred = { .pid = pid, .uid = getuid(), .gid = getgid() };
		memset(&control, 0, sizeof control);
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof control.buf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof cred);
		memcpy(CMSG_DATA(cm), &cred, sizeof cred);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static void say(const char *what)
{
	char line[256];
	int n = snprintf(line, sizeof line, "grove-shim sd-notify: %s: %s\n", what, strerror(errno));
	if (n > 0)
		write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int sdnotify_main(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t plen;
	pid_t parent = getppid();
	int as_parent = 1, fd;
	static char line[MSG_MAX + 2];

	if (!path || (path[0] != '/' && path[0] != '@') || (plen = strlen(path)) >= sizeof sa.sun_path) {
		static const char usage[] = "grove-shim sd-notify: NOTIFY_SOCKET must be an absolute or @abstract path\n";
		write_all(2, usage, sizeof usage - 1);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL counted */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/' ? 1 : 0));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("socket");
		return 2;
	}
	while (fgets(line, sizeof line, stdin)) {
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(stdin)) {
			/* Longer than MSG_MAX: drop the rest of the line, never send half a message. */
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
			continue;
		}
		if (len == 0)
			continue;
		if (getppid() != parent)
			break; /* the agent is gone: nothing left to vouch for */
		if (as_parent && send_as(fd, &sa, salen, line, len, parent) == 0)
			continue;
		if (as_parent && errno == EPERM)
			as_parent = 0; /* no CAP_SYS_ADMIN: our own credentials from now on */
		if (send_as(fd, &sa, salen, line, len, 0) < 0)
			say("send"); /* keep going: systemd may come back (daemon-reexec) */
	}
	close(fd);
	return 0;
}
