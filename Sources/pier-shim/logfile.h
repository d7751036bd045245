// The json-file log driver's file (Docker's format): one JSON object a line,
// {"log":"text\n","stream":"stdout","time":"RFC3339Nano"}, rotated to <path>.1 ...
// when max_size is reached, keeping max_files files in all.
#ifndef PIER_LOGFILE_H
#define PIER_LOGFILE_H
#include <stddef.h>

#include "io.h"

struct logfile {
    int fd;
    char *path;
    long long size, max_size;    // max_size 0: never rotate
    int max_files;
    struct bytes line;
};

int logfile_open(struct logfile *l, const char *path, long long max_size, int max_files);
// Appends the chunk, one entry per line (the last one may lack its newline).
void logfile_write(struct logfile *l, const char *stream, const char *data, size_t n);
void logfile_close(struct logfile *l);

#endif
