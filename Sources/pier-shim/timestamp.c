#define _GNU_SOURCE
#include "timestamp.h"

#include <stdio.h>

void timestamp_now(struct timespec *t) {
    clock_gettime(CLOCK_REALTIME, t);
}

void timestamp_format(const struct timespec *t, char out[TIMESTAMP_MAX]) {
    if (t->tv_sec == 0 && t->tv_nsec == 0) {
        snprintf(out, TIMESTAMP_MAX, "0001-01-01T00:00:00Z");
        return;
    }
    struct tm tm;
    time_t secs = t->tv_sec;
    gmtime_r(&secs, &tm);
    int n = snprintf(out, TIMESTAMP_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    long nsec = t->tv_nsec % 1000000000L;
    if (nsec > 0 && n > 0 && n < TIMESTAMP_MAX) {
        char frac[24];
        snprintf(frac, sizeof(frac), ".%09ld", nsec);
        int end = 9;
        while (frac[end] == '0') end--;
        frac[end + 1] = '\0';
        n += snprintf(out + n, (size_t)(TIMESTAMP_MAX - n), "%s", frac);
    }
    if (n > 0 && n < TIMESTAMP_MAX) snprintf(out + n, (size_t)(TIMESTAMP_MAX - n), "Z");
}
