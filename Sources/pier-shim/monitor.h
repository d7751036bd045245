// The monitor: one poll loop that holds the container's stdio (pipes or a pty),
// writes the log, serves control.sock and attach.sock, and when the process exits
// drains its output, writes the exit file and tells every control client.
// It never blocks on a client: sockets are non-blocking with bounded queues, and
// output is read only as fast as the slowest attached client takes it (the
// container blocks on a full pipe; nothing is dropped).
#ifndef PIER_MONITOR_H
#define PIER_MONITOR_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "logfile.h"

struct monitor_setup {
    pid_t pid;                   // -1 when setup failed before there was a process
    const char *error;           // why, in that case
    int sync_fd;                 // the shim's end of the sync socket, or -1
    bool terminal, stdin_once;
    int stdin_fd, stdout_fd, stderr_fd;      // the shim's ends of the pipes; -1 with a terminal
    int control_listen, attach_listen;
    const char *control_path, *attach_path, *exit_path;
    struct logfile *log;                     // NULL: output goes to attached clients only
    const char *const *cgroup_procs;
    size_t ncgroup_procs;
    long long oom_kills_before;
    // The container's mount namespace, held open (or -1) so that its teardown (unmounting the
    // rootfs and the rest, an RCU grace period: ~1.5-2 ms here) happens after the exit is reported,
    // not inside the process's exit where it delays SIGCHLD.
    int mount_ns_fd;
};

// Runs until the process has exited and everything is reported; returns the shim's exit status.
int monitor_run(const struct monitor_setup *setup);

#endif
