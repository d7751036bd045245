// File-descriptor helpers and a byte queue, shared by the monitor, the log and the
// exit file. The queue gives its memory back when it empties, so that a burst of
// output does not stay in the shim's RSS.
#ifndef PIER_IO_H
#define PIER_IO_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bytes {
    char *data;
    size_t off, len, cap;   // pending bytes are data[off..len)
};

int bytes_append(struct bytes *b, const void *p, size_t n);   // -1 when out of memory
size_t bytes_pending(const struct bytes *b);
const char *bytes_head(const struct bytes *b);
void bytes_consume(struct bytes *b, size_t n);
void bytes_reset(struct bytes *b);                              // empties it, keeping small buffers
void bytes_free(struct bytes *b);

int write_all(int fd, const void *p, size_t n);                 // retries EINTR and short writes
int set_nonblocking(int fd);
// Reads a whole regular file of at most `max` bytes into a malloc'd, NUL-terminated buffer.
int read_file(const char *path, size_t max, char **out, size_t *len);

#endif
