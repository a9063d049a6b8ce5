/* The container log: CRI format lines in a capped set of rotated files. */
#ifndef GROVE_LOGS_H
#define GROVE_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "shim.h"

/* Longest line kept whole; longer ones are split into "P" (partial) records. */
#define LOG_LINE_MAX 16384
/* Room for "<30-char time> stdout F " and the newline, so a record always fits one file. */
#define LOG_RECORD_OVERHEAD 64
#define LOG_MIN_BYTES 4096

struct log_writer {
	int fd;
	uint64_t size;      /* bytes in the current file, including what is buffered */
	uint64_t max_bytes;
	unsigned max_files;
	size_t line_max;    /* min(LOG_LINE_MAX, max_bytes - overhead) */
	const char *dir;
	size_t olen;
	char obuf[8192];    /* batches small lines into one write(2) */
};

struct log_stream {
	int fd; /* read end of the container's pipe; -1 once at EOF */
	const char *name;
	size_t len;
	char buf[LOG_LINE_MAX];
};

int log_open(struct log_writer *w, const struct shim_config *cfg);
void log_stream_init(struct log_stream *s, int fd, const char *name);
/* Reads what is available; at EOF logs the remainder, closes and sets fd to -1. */
void log_pump(struct log_writer *w, struct log_stream *s);
/* Gives up on a stream (drain deadline): logs the remainder and closes it. */
void log_stream_finish(struct log_writer *w, struct log_stream *s);
void log_flush(struct log_writer *w);

#endif
