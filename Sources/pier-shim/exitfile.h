// The exit file pierd reads (also after a restart): written to a temporary name and
// renamed, so a reader sees the whole record or none.
// {"exitCode":N,"signal":S,"oomKilled":false,"startedAt":"...","finishedAt":"...","error":""}
#ifndef PIER_EXITFILE_H
#define PIER_EXITFILE_H
#include <stdbool.h>
#include <time.h>

struct exit_record {
    int exit_code;               // the status, or 128 + signal
    int signal;                  // 0 unless killed by a signal
    bool oom_killed;
    struct timespec started_at, finished_at;   // zero: never started
    const char *error;           // "" when none
};

int exitfile_write(const char *path, const struct exit_record *r);

#endif
