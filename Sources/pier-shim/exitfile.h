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

// Writes the record where readers see it at once; it is not yet on disk.
int exitfile_write(const char *path, const struct exit_record *r);

// Makes the written record survive a power cut (the file, then its rename). Called after
// pierd and the attached clients are told, so the disk's latency is not part of `run`.
void exitfile_sync(const char *path);

#endif
