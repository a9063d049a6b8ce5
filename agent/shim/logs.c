#include "logs.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_NAME "container.log"

static int open_current(struct log_writer *w)
{
	char path[PATH_CAP];
	struct stat st;
	if (path_join(path, sizeof path, w->dir, LOG_NAME) < 0)
		return -1;
	/* 0640: container output may hold secrets. O_NOFOLLOW: never write through a planted link. */
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (w->fd < 0)
		return -1;
	/* A restarted shim appends: count what is already there against the cap. */
	w->size = fstat(w->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

int log_open(struct log_writer *w, const struct shim_config *cfg)
{
	w->dir = cfg->state_dir;
	w->max_bytes = cfg->log_max_bytes;
	w->max_files = cfg->log_max_files;
	w->olen = 0;
	w->line_max = LOG_LINE_MAX;
	if (w->max_bytes - LOG_RECORD_OVERHEAD < w->line_max)
		w->line_max = (size_t)(w->max_bytes - LOG_RECORD_OVERHEAD);
	return open_current(w);
}

void log_stream_init(struct log_stream *s, int fd, const char *name)
{
	s->fd = fd;
	s->name = name;
	s->len = 0;
}

void log_flush(struct log_writer *w)
{
	/* A full disk loses log lines but never blocks the container's pipe. */
	if (w->olen > 0 && w->fd >= 0)
		write_all(w->fd, w->obuf, w->olen);
	w->olen = 0;
}

/* container.log.(k) → .(k+1), dropping the oldest; container.log → .1; fresh container.log. */
static void rotate(struct log_writer *w)
{
	char from[PATH_CAP], to[PATH_CAP];
	log_flush(w);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->max_files > 1) {
		snprintf(to, sizeof to, "%s/" LOG_NAME ".%u", w->dir, w->max_files - 1);
		unlink(to);
		for (unsigned k = w->max_files - 1; k > 1; k--) {
			snprintf(from, sizeof from, "%s/" LOG_NAME ".%u", w->dir, k - 1);
			snprintf(to, sizeof to, "%s/" LOG_NAME ".%u", w->dir, k);
			rename(from, to);
		}
		snprintf(from, sizeof from, "%s/" LOG_NAME, w->dir);
		snprintf(to, sizeof to, "%s/" LOG_NAME ".1", w->dir);
		rename(from, to);
	} else {
		snprintf(from, sizeof from, "%s/" LOG_NAME, w->dir);
		unlink(from);
	}
	if (open_current(w) < 0)
		w->size = 0; /* keep counting so we retry the open at the next rotation */
}

static void emit(struct log_writer *w, const char *stamp, const char *stream, char tag,
		 const char *text, size_t len)
{
	char head[TIME_BUF + 16];
	int hlen = snprintf(head, sizeof head, "%s %s %c ", stamp, stream, tag);
	if (hlen < 0)
		return;
	size_t rec = (size_t)hlen + len + 1;
	/* Rotate before the write that would cross the cap, so no file ever exceeds it. */
	if (w->size > 0 && w->size + rec > w->max_bytes)
		rotate(w);
	w->size += rec;
	if (w->fd < 0)
		return;
	if (rec > sizeof w->obuf - w->olen)
		log_flush(w);
	if (rec > sizeof w->obuf) {
		/* Long line: bypass the batch buffer. We are the only writer, so no interleaving. */
		write_all(w->fd, head, (size_t)hlen);
		write_all(w->fd, text, len);
		write_all(w->fd, "\n", 1);
		return;
	}
	memcpy(w->obuf + w->olen, head, (size_t)hlen);
	memcpy(w->obuf + w->olen + hlen, text, len);
	w->obuf[w->olen + rec - 1] = '\n';
	w->olen += rec;
}

void log_stream_finish(struct log_writer *w, struct log_stream *s)
{
	if (s->len > 0) {
		char stamp[TIME_BUF];
		format_now(stamp, 1);
		/* The stream ended without a newline: the remainder is still a complete entry. */
		emit(w, stamp, s->name, 'F', s->buf, s->len);
		s->len = 0;
	}
	log_flush(w);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void log_pump(struct log_writer *w, struct log_stream *s)
{
	char stamp[TIME_BUF];
	ssize_t n;
	if (s->fd < 0)
		return;
	do
		n = read(s->fd, s->buf + s->len, w->line_max - s->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		log_stream_finish(w, s);
		return;
	}
	format_now(stamp, 1);
	size_t total = s->len + (size_t)n, start = 0;
	for (size_t i = s->len; i < total; i++) {
		if (s->buf[i] == '\n') {
			emit(w, stamp, s->name, 'F', s->buf + start, i - start);
			start = i + 1;
		}
	}
	if (start == 0 && total == w->line_max) {
		/* A line longer than the buffer: log this piece, the rest follows as more records. */
		emit(w, stamp, s->name, 'P', s->buf, total);
		total = 0;
	} else if (start > 0) {
		memmove(s->buf, s->buf + start, total - start);
		total -= start;
	}
	s->len = total;
	log_flush(w);
}
