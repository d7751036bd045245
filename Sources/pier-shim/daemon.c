#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io.h"

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int report_fd, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n > 0) (void)write_all(report_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
    _exit(125);
}

static int listen_on(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int write_pid_file(const char *path) {
    char tmp[256], value[24];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int n = snprintf(value, sizeof(value), "%d\n", (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int rc = write_all(fd, value, (size_t)n);
    if (close(fd) < 0) rc = -1;
    if (rc == 0) rc = rename(tmp, path);
    return rc;
}

static void use_dev_null_for_stdio(int report_fd) {
    int null = open("/dev/null", O_RDWR);
    if (null < 0) fail(report_fd, "open /dev/null: %s", strerror(errno));
    for (int i = 0; i < 3; i++)
        if (null != i && dup2(null, i) < 0) fail(report_fd, "dup2: %s", strerror(errno));
    if (null > 2) close(null);
}

int daemonize(const char *dir, const struct daemon_files *files, int *control_fd, int *attach_fd) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) {
        fprintf(stderr, "pier-shim: pipe: %s\n", strerror(errno));
        _exit(125);
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "pier-shim: fork: %s\n", strerror(errno));
        _exit(125);
    }
    if (pid > 0) {
        close(report[1]);
        char msg[512];
        size_t n = 0;
        for (;;) {
            ssize_t r = read(report[0], msg + n, sizeof(msg) - 1 - n);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            n += (size_t)r;
            if (n == sizeof(msg) - 1) break;
        }
        if (n == 0) _exit(0);
        msg[n] = '\0';
        fprintf(stderr, "pier-shim: %s\n", msg);
        _exit(125);
    }
    close(report[0]);
    if (setsid() < 0) fail(report[1], "setsid: %s", strerror(errno));
    if (chdir(dir) < 0) fail(report[1], "chdir %s: %s", dir, strerror(errno));
    umask(022);
    signal(SIGPIPE, SIG_IGN);   // pierd may go away with a socket half-written
    signal(SIGHUP, SIG_IGN);
    if (write_pid_file(files->pid_file) < 0) fail(report[1], "write %s/%s: %s", dir, files->pid_file, strerror(errno));
    *control_fd = listen_on(files->control_socket);
    if (*control_fd < 0) fail(report[1], "listen on %s/%s: %s", dir, files->control_socket, strerror(errno));
    *attach_fd = listen_on(files->attach_socket);
    if (*attach_fd < 0) fail(report[1], "listen on %s/%s: %s", dir, files->attach_socket, strerror(errno));
    use_dev_null_for_stdio(report[1]);
    close(report[1]);   // end of file: the parent exits 0
    return 0;
}
