#define _GNU_SOURCE
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { BYTES_KEEP = 64 * 1024 };   // an empty queue keeps at most this much memory

int bytes_append(struct bytes *b, const void *p, size_t n) {
    if (n == 0) return 0;
    if (b->off > 0 && b->off == b->len) b->off = b->len = 0;
    if (b->cap - b->len < n && b->off > 0) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > (size_t)-1 / 2) return -1;
            cap *= 2;
        }
        char *data = realloc(b->data, cap);
        if (data == NULL) return -1;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

size_t bytes_pending(const struct bytes *b) { return b->len - b->off; }

const char *bytes_head(const struct bytes *b) { return b->data + b->off; }

void bytes_consume(struct bytes *b, size_t n) {
    b->off += n;
    if (b->off >= b->len) bytes_reset(b);
}

void bytes_reset(struct bytes *b) {
    b->off = b->len = 0;
    if (b->cap > BYTES_KEEP) bytes_free(b);
}

void bytes_free(struct bytes *b) {
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int read_file(const char *path, size_t max, char **out, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return -1; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return -1; }
    if ((size_t)st.st_size > max) { close(fd); errno = EFBIG; return -1; }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) { close(fd); errno = ENOMEM; return -1; }
    for (;;) {
        if (n + 1 >= cap) {  // the file grew while we read it
            if (cap > max) { free(buf); close(fd); errno = EFBIG; return -1; }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) { free(buf); close(fd); errno = ENOMEM; return -1; }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
