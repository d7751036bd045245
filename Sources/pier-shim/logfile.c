#define _GNU_SOURCE
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "timestamp.h"

int logfile_open(struct logfile *l, const char *path, long long max_size, int max_files) {
    memset(l, 0, sizeof(*l));
    l->path = strdup(path);
    if (l->path == NULL) return -1;
    l->max_size = max_size > 0 ? max_size : 0;
    l->max_files = max_files > 0 ? max_files : 1;
    l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (l->fd < 0) {
        free(l->path);
        l->path = NULL;
        return -1;
    }
    struct stat st;
    l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
    return 0;
}

static void rotated_name(char *out, size_t n, const char *path, int index) {
    if (index == 0) snprintf(out, n, "%s", path);
    else snprintf(out, n, "%s.%d", path, index);
}

static void rotate(struct logfile *l) {
    if (l->max_files <= 1) {
        if (ftruncate(l->fd, 0) == 0) l->size = 0;
        return;
    }
    size_t n = strlen(l->path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (from != NULL && to != NULL) {
        for (int i = l->max_files - 1; i >= 1; i--) {
            rotated_name(from, n, l->path, i - 1);
            rotated_name(to, n, l->path, i);
            if (rename(from, to) < 0 && errno != ENOENT) break;
        }
        int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd >= 0) {
            close(l->fd);
            l->fd = fd;
            l->size = 0;
        }
    }
    free(from);
    free(to);
}

static void write_entry(struct logfile *l, const char *stream, const char *text, size_t n, const char *time) {
    struct bytes *b = &l->line;
    bytes_reset(b);
    if (bytes_append(b, "{\"log\":", 7) < 0 || json_append_string(b, text, n) < 0 ||
        bytes_append(b, ",\"stream\":\"", 11) < 0 || bytes_append(b, stream, strlen(stream)) < 0 ||
        bytes_append(b, "\",\"time\":\"", 10) < 0 || bytes_append(b, time, strlen(time)) < 0 ||
        bytes_append(b, "\"}\n", 3) < 0)
        return;   // out of memory: this entry is lost, the next may fit
    // One write() an entry, so that a reader following the file never sees half a line.
    if (write_all(l->fd, bytes_head(b), bytes_pending(b)) == 0) l->size += (long long)bytes_pending(b);
    if (l->max_size > 0 && l->size >= l->max_size) rotate(l);
}

void logfile_write(struct logfile *l, const char *stream, const char *data, size_t n) {
    if (l->fd < 0 || n == 0) return;
    struct timespec now;
    char time[TIMESTAMP_MAX];
    timestamp_now(&now);
    timestamp_format(&now, time);
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t len = nl != NULL ? (size_t)(nl - data) + 1 : n;
        write_entry(l, stream, data, len, time);
        data += len;
        n -= len;
    }
    bytes_reset(&l->line);
}

void logfile_close(struct logfile *l) {
    if (l->fd >= 0) close(l->fd);
    l->fd = -1;
    free(l->path);
    l->path = NULL;
    bytes_free(&l->line);
}
