// Starting a process inside a running container (pier-shim exec): join the
// namespaces of its init process, then the same process steps as the first process.
#ifndef PIER_EXEC_H
#define PIER_EXEC_H
#include <sys/types.h>

#include "child.h"

// Joins the namespaces of c->join_pid (the pid namespace for the shim's children, the
// others in the child) and forks the process. -1 with a message when the container is gone.
pid_t exec_spawn(struct child *c, int *sync_fd, char *err, size_t errlen);

#endif
