// The cgroups pierd made for the container (annotation org.pier.cgroup.procs): the
// shim moves the process in before it runs anything, and reads the OOM-kill counters
// to say whether the kernel killed it for memory.
#ifndef PIER_CGROUP_H
#define PIER_CGROUP_H
#include <stddef.h>
#include <sys/types.h>

// Writes pid into each cgroup.procs file; -1 with a message naming the file.
int cgroup_join(const char *const *procs, size_t n, pid_t pid, char *err, size_t errlen);
// The sum of oom_kill counters of the memory controllers among those cgroups.
long long cgroup_oom_kills(const char *const *procs, size_t n);

#endif
