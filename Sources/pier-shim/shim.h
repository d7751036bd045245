// The two ways the shim runs (docs/runtime.md): `run` starts a container's first
// process, `exec` starts another one inside it. Both prepare everything that can
// fail before detaching (so pierd sees such errors on stderr with exit status 125),
// then detach, start the process and monitor it.
#ifndef PIER_SHIM_H
#define PIER_SHIM_H
#include <sys/types.h>

struct shim_options {
    const char *bundle, *id;
    long long log_max_size;      // 0: never rotate
    int log_max_files;
    pid_t pid;                   // exec: the container's init process
    const char *process;         // exec: process.json
};

int shim_run(const struct shim_options *o);
int shim_exec(const struct shim_options *o);

#endif
