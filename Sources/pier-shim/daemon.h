// Detaching from pierd: the shim forks once; the parent exits as soon as the child
// has written its pid file and its sockets listen (0; or 125 with the reason on stderr),
// so that pierd can connect as soon as it has reaped the parent. The child is in its
// own session, in the container directory, with /dev/null as stdio, SIGPIPE ignored:
// it outlives pierd.
#ifndef PIER_DAEMON_H
#define PIER_DAEMON_H

struct daemon_files {
    const char *pid_file, *control_socket, *attach_socket;   // relative to dir
};

// Returns in the child with the two listening sockets; never returns in the parent.
int daemonize(const char *dir, const struct daemon_files *files, int *control_fd, int *attach_fd);

#endif
