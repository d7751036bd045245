// The sync socket between the shim and the child it starts (SOCK_SEQPACKET, one
// message a datagram). shim -> child: "go" (it is in its cgroups), "start".
// child -> shim: "console" with the pty master attached, "ready", "error <code> <msg>".
// The child's end is close-on-exec, so end-of-file after "ready" means execve succeeded.
#ifndef PIER_SYNC_H
#define PIER_SYNC_H
#include <stddef.h>
#include <sys/types.h>

int sync_socketpair(int fds[2]);
int sync_send(int fd, const char *msg, int pass_fd);     // pass_fd < 0: no descriptor
// Receives one message into buf (NUL-terminated); 0 at end of file; -1 on error.
// A descriptor that came with it is stored in *passed_fd (else -1).
ssize_t sync_recv(int fd, char *buf, size_t len, int *passed_fd);

#endif
