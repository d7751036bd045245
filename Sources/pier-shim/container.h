// Starting a container's first process: clone into the namespaces of config.json;
// the child builds the root filesystem step by step and hands over to the process steps.
#ifndef PIER_CONTAINER_H
#define PIER_CONTAINER_H
#include <sys/types.h>

#include "child.h"

// Returns the child's pid (as the shim sees it) and the shim's end of the sync socket,
// or -1 with a message.
pid_t container_spawn(struct child *c, int *sync_fd, char *err, size_t errlen);

#endif
