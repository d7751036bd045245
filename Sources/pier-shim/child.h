// What the child process (the container's first process, or an exec'd one) knows
// between clone and execve. It was filled in by the shim before the clone; the child
// only makes system calls and formats into fixed buffers (no malloc, no locks).
#ifndef PIER_CHILD_H
#define PIER_CHILD_H
#include <stdbool.h>
#include <stdnoreturn.h>
#include <sys/types.h>

#include "security.h"
#include "spec.h"

struct child {
    const struct spec *spec;
    const struct seccomp_program *seccomp;
    int last_cap;
    int sync_fd;                  // the child's end of the sync socket
    int stdio[3];                 // pipe ends that become 0, 1, 2; -1 with a terminal
    int ns_fds[SPEC_MAX_NAMESPACES];     // namespaces to setns into; -1 past the end
    int ns_types[SPEC_MAX_NAMESPACES];
    const char *overlay_options;  // "lowerdir=...,upperdir=...,workdir=..."; NULL: bind root.path
    const char *overlay_dir;      // chdir here first: the options hold relative names
    int rootfd;                   // the container's root, once mounted
    int console;                  // the pty slave with a terminal, else -1
    pid_t join_pid;               // exec: the container's init, whose namespaces it joins
    bool create_cwd;              // the first process creates a missing cwd, as Docker does; exec does not
    int code;                     // exit code when setup fails (125, 126, 127)
    char executable[4096];        // process.args[0] found in $PATH
    char message[1024];           // why setup failed
};

// Records a failure (code 125) "<what>: <errno text>"; returns -1.
__attribute__((format(printf, 2, 3))) int child_fail(struct child *c, const char *fmt, ...);
// Records a failure with an explicit code and no errno text; returns -1.
__attribute__((format(printf, 3, 4))) int child_fail_code(struct child *c, int code, const char *fmt, ...);
// Reports the failure on the sync socket and exits with its code.
noreturn void child_exit_with_error(struct child *c);
// Go-style (lower-case) text for an errno value, e.g. "no such file or directory".
void errno_text(int err, char out[64]);

// Steps shared by every container process: they run after the namespaces and root are
// ready, report "ready", wait for "start" and execve process.args. Never returns.
noreturn void process_finish_and_exec(struct child *c);

// Takes a freshly opened pty master: sends it to the shim and makes its slave the
// controlling terminal and stdio (kept in c->console).
int console_attach(struct child *c, int master);

#endif
