// RFC 3339 timestamps with nanoseconds, formatted as Go's time.RFC3339Nano does
// (trailing zeros of the fraction dropped), which is what Docker writes.
#ifndef PIER_TIMESTAMP_H
#define PIER_TIMESTAMP_H
#include <stddef.h>
#include <time.h>

enum { TIMESTAMP_MAX = 40 };

// Writes the time (UTC) into out; a zero timespec gives Go's zero time.
void timestamp_format(const struct timespec *t, char out[TIMESTAMP_MAX]);
void timestamp_now(struct timespec *t);

#endif
