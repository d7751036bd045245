#define _GNU_SOURCE
#include "monitor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "exitfile.h"
#include "io.h"
#include "sync.h"
#include "timestamp.h"

enum {
    MAX_CLIENTS = 32,
    READ_CHUNK = 16 * 1024,
    ATTACH_HIGH_WATER = 64 * 1024,    // stop reading the container while a client holds this much
    STDIN_HIGH_WATER = 64 * 1024,     // stop reading clients while the container has not taken this
    CONTROL_QUEUE_MAX = 16 * 1024,    // a control client that lets this much pile up is dropped
    CONTROL_LINE_MAX = 256,
    FLUSH_ATTACH_MS = 5000,
    FLUSH_CONTROL_MS = 2000,
    WAIT_FOR_CONTROL_MS = 5000,
};

struct client {
    int fd;                          // -1: a free slot
    bool control;
    bool input_closed;
    struct bytes out;
    char line[CONTROL_LINE_MAX];
    size_t linelen;
    bool overlong;                   // discarding the rest of a line that was too long
};

struct output {
    int fd;
    int stream;                      // 1 stdout, 2 stderr
};

struct monitor {
    const struct monitor_setup *setup;
    pid_t pid;
    int sigfd, sync_fd, control_listen, attach_listen;
    int master;                      // the pty master with a terminal
    struct output out[2];
    int stdin_fd;                    // the pipe; with a terminal, stdin goes to the master
    bool stdin_closing;
    struct bytes stdin_queue;
    struct client clients[MAX_CLIENTS];
    bool ever_had_control;
    bool ready, start_sent, started, reaped, failed;
    int status;
    char error[1200];
    struct timespec started_at, finished_at;
    bool pending_winsize;
    struct winsize winsize;
    char *buf;
};

// ---- clients ------------------------------------------------------------------------

static void client_close(struct client *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    bytes_free(&c->out);
    c->linelen = 0;
    c->overlong = false;
    c->input_closed = false;
}

// Sends what is queued without blocking; false when the client is gone.
static bool client_flush(struct client *c) {
    while (bytes_pending(&c->out) > 0) {
        ssize_t n = send(c->fd, bytes_head(&c->out), bytes_pending(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            return false;
        }
        bytes_consume(&c->out, (size_t)n);
    }
    return true;
}

static void client_send(struct client *c, const void *data, size_t n) {
    if (c->fd < 0) return;
    if (bytes_append(&c->out, data, n) < 0 || !client_flush(c) ||
        (c->control && bytes_pending(&c->out) > CONTROL_QUEUE_MAX))
        client_close(c);
}

static void send_event(struct monitor *m, struct client *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void send_event(struct monitor *m, struct client *only, const char *fmt, ...) {
    char line[1300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof(line) - 2) n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd >= 0 && c->control && (only == NULL || only == c)) client_send(c, line, (size_t)n);
    }
}

// What a control client that connects now needs to know.
static void greet(struct monitor *m, struct client *c) {
    if (m->ready) send_event(m, c, "ready %d", (int)m->pid);
    if (m->started) send_event(m, c, "started %d", (int)m->pid);
    if (m->failed) send_event(m, c, "error %s", m->error);
}

static void accept_client(struct monitor *m, int listen_fd, bool control) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd >= 0) continue;
        memset(c, 0, sizeof(*c));
        c->fd = fd;
        c->control = control;
        if (control) {
            m->ever_had_control = true;
            greet(m, c);
        }
        return;
    }
    close(fd);   // too many clients
}

// ---- the container's stdio --------------------------------------------------------------

static void deliver_output(struct monitor *m, int stream, const char *data, size_t n) {
    if (m->setup->log != NULL) logfile_write(m->setup->log, stream == 1 ? "stdout" : "stderr", data, n);
    unsigned char header[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                               (unsigned char)(n >> 8), (unsigned char)n};
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd < 0 || c->control) continue;
        // Without a terminal, Docker's stdcopy frames; with one, raw bytes.
        if (!m->setup->terminal && bytes_append(&c->out, header, sizeof(header)) < 0) { client_close(c); continue; }
        client_send(c, data, n);
    }
}

static void close_output(struct monitor *m, struct output *o) {
    if (o->fd < 0) return;
    if (o->fd == m->master) {
        m->master = -1;
        bytes_free(&m->stdin_queue);
    }
    close(o->fd);
    o->fd = -1;
}

// Reads one chunk; false when nothing more is there for now (EAGAIN) or ever (EOF).
static bool read_output(struct monitor *m, struct output *o) {
    if (o->fd < 0) return false;
    ssize_t n = read(o->fd, m->buf, READ_CHUNK);
    if (n > 0) {
        deliver_output(m, o->stream, m->buf, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EINTR)) return true;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    close_output(m, o);   // EOF, or EIO once a pty's slave side is closed
    return false;
}

static int stdin_target(const struct monitor *m) {
    return m->setup->terminal ? m->master : m->stdin_fd;
}

static void close_stdin_now(struct monitor *m) {
    bytes_free(&m->stdin_queue);
    m->stdin_closing = false;
    if (m->stdin_fd >= 0) close(m->stdin_fd);
    m->stdin_fd = -1;
}

static void flush_stdin(struct monitor *m) {
    int fd = stdin_target(m);
    while (fd >= 0 && bytes_pending(&m->stdin_queue) > 0) {
        ssize_t n = write(fd, bytes_head(&m->stdin_queue), bytes_pending(&m->stdin_queue));
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            // The container closed its stdin: what it did not read is lost, as with Docker.
            if (m->setup->terminal) bytes_free(&m->stdin_queue);
            else close_stdin_now(m);
            return;
        }
        bytes_consume(&m->stdin_queue, (size_t)n);
    }
    if (m->stdin_closing && bytes_pending(&m->stdin_queue) == 0) close_stdin_now(m);
}

static void queue_stdin(struct monitor *m, const char *data, size_t n) {
    if (stdin_target(m) < 0 || m->stdin_closing) return;
    if (bytes_append(&m->stdin_queue, data, n) == 0) flush_stdin(m);
}

static void request_stdin_close(struct monitor *m) {
    if (m->setup->terminal) {
        // A terminal has no end of file of its own; ^D is what a user would type.
        queue_stdin(m, "\x04", 1);
        return;
    }
    if (m->stdin_fd < 0) return;
    m->stdin_closing = true;
    flush_stdin(m);
}

// ---- control commands -------------------------------------------------------------------

static const struct { const char *name; int sig; } SIGNALS[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

static int parse_signal(const char *s) {
    char *end;
    long n = strtol(s, &end, 10);
    if (end != s && *end == '\0') return n > 0 && n < NSIG ? (int)n : -1;
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++)
        if (strcasecmp(SIGNALS[i].name, s) == 0) return SIGNALS[i].sig;
    return -1;
}

static void apply_winsize(struct monitor *m) {
    if (m->master >= 0 && m->pending_winsize) {
        (void)ioctl(m->master, TIOCSWINSZ, &m->winsize);
        m->pending_winsize = false;
    }
}

static void run_command(struct monitor *m, struct client *c, char *line) {
    char *arg = strchr(line, ' ');
    if (arg != NULL) *arg++ = '\0';
    if (strcmp(line, "start") == 0) {
        if (!m->start_sent && m->sync_fd >= 0 && !m->failed) {
            m->start_sent = true;
            if (sync_send(m->sync_fd, "start", -1) < 0) m->start_sent = false;
        }
    } else if (strcmp(line, "kill") == 0) {
        int sig = arg != NULL ? parse_signal(arg) : -1;
        if (sig < 0) send_event(m, c, "error kill: invalid signal %s", arg != NULL ? arg : "(none)");
        else if (m->pid > 0 && !m->reaped && kill(m->pid, sig) < 0)
            send_event(m, c, "error kill %d: %s", sig, strerror(errno));
    } else if (strcmp(line, "resize") == 0) {
        unsigned rows = 0, cols = 0;
        if (arg == NULL || sscanf(arg, "%u %u", &rows, &cols) != 2 || rows > 0xFFFF || cols > 0xFFFF) {
            send_event(m, c, "error resize: expected <rows> <cols>");
            return;
        }
        m->winsize = (struct winsize){.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        m->pending_winsize = true;
        apply_winsize(m);
    } else if (strcmp(line, "close-stdin") == 0) {
        request_stdin_close(m);
    } else if (line[0] != '\0') {
        send_event(m, c, "error unknown command %s", line);
    }
}

static void read_control(struct monitor *m, struct client *c) {
    char buf[512];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) client_close(c);
        return;
    }
    if (n == 0) { c->input_closed = true; return; }
    for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            if (!c->overlong) {
                if (c->linelen > 0 && c->line[c->linelen - 1] == '\r') c->linelen--;
                c->line[c->linelen] = '\0';
                run_command(m, c, c->line);
            }
            c->linelen = 0;
            c->overlong = false;
        } else if (c->linelen + 1 < sizeof(c->line)) {
            c->line[c->linelen++] = ch;
        } else {
            c->overlong = true;
        }
    }
}

static void read_attach(struct monitor *m, struct client *c) {
    char buf[4096];
    ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) client_close(c);
        return;
    }
    if (n == 0) {
        c->input_closed = true;
        if (m->setup->stdin_once) request_stdin_close(m);
        return;
    }
    queue_stdin(m, buf, (size_t)n);
}

// ---- the child: sync messages and exit ----------------------------------------------------

// Handles one message from the child; false when none was waiting.
static bool handle_sync(struct monitor *m) {
    char msg[1200];
    int fd;
    ssize_t n = sync_recv(m->sync_fd, msg, sizeof(msg), &fd);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    // A child that failed before reading "go" closed its end with "go" unread: the kernel
    // reports ECONNRESET once, ahead of the messages it sent (its error). Read on.
    if (n < 0 && errno == ECONNRESET) return true;
    if (n <= 0) {
        // End of file: the close-on-exec end went away. After "start" and no error,
        // that was a successful execve.
        close(m->sync_fd);
        m->sync_fd = -1;
        if (m->start_sent && !m->failed) {
            m->started = true;
            timestamp_now(&m->started_at);
            send_event(m, NULL, "started %d", (int)m->pid);
        }
        return true;
    }
    if (strcmp(msg, "console") == 0 && fd >= 0) {
        if (m->master >= 0) close(m->master);
        m->master = fd;
        set_nonblocking(fd);
        m->out[0] = (struct output){.fd = fd, .stream = 1};
        apply_winsize(m);
    } else if (fd >= 0) {
        close(fd);
    }
    if (strcmp(msg, "ready") == 0) {
        m->ready = true;
        send_event(m, NULL, "ready %d", (int)m->pid);
    } else if (strncmp(msg, "error ", 6) == 0) {
        const char *text = strchr(msg + 6, ' ');
        snprintf(m->error, sizeof(m->error), "%s", text != NULL ? text + 1 : msg + 6);
        m->failed = true;
        send_event(m, NULL, "error %s", m->error);
    }
    return true;
}

static void reap(struct monitor *m) {
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {}
    for (;;) {
        int status;
        pid_t r = waitpid(-1, &status, WNOHANG);
        if (r <= 0) break;
        if (r == m->pid) {
            m->status = status;
            m->reaped = true;
            timestamp_now(&m->finished_at);
        }
    }
}

// ---- the loop -------------------------------------------------------------------------------

enum tag { TAG_SIGNAL, TAG_SYNC, TAG_CONTROL_LISTEN, TAG_ATTACH_LISTEN, TAG_OUT0, TAG_OUT1, TAG_STDIN, TAG_CLIENT };

static bool output_paused(const struct monitor *m) {
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const struct client *c = &m->clients[i];
        if (c->fd >= 0 && !c->control && bytes_pending(&c->out) >= ATTACH_HIGH_WATER) return true;
    }
    return false;
}

static void add(struct pollfd *fds, int *tags, int *n, int fd, short events, int tag) {
    if (fd < 0 || events == 0) return;
    fds[*n] = (struct pollfd){.fd = fd, .events = events};
    tags[*n] = tag;
    (*n)++;
}

static void poll_once(struct monitor *m) {
    struct pollfd fds[8 + MAX_CLIENTS];
    int tags[8 + MAX_CLIENTS];
    int n = 0;
    bool paused = output_paused(m);
    bool stdin_full = bytes_pending(&m->stdin_queue) >= STDIN_HIGH_WATER;
    add(fds, tags, &n, m->sigfd, POLLIN, TAG_SIGNAL);
    add(fds, tags, &n, m->sync_fd, POLLIN, TAG_SYNC);
    add(fds, tags, &n, m->control_listen, POLLIN, TAG_CONTROL_LISTEN);
    add(fds, tags, &n, m->attach_listen, POLLIN, TAG_ATTACH_LISTEN);
    if (!paused) {
        add(fds, tags, &n, m->out[0].fd, POLLIN, TAG_OUT0);
        add(fds, tags, &n, m->out[1].fd, POLLIN, TAG_OUT1);
    }
    if (bytes_pending(&m->stdin_queue) > 0) add(fds, tags, &n, stdin_target(m), POLLOUT, TAG_STDIN);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &m->clients[i];
        if (c->fd < 0) continue;
        short events = 0;
        if (!c->input_closed && (c->control || !stdin_full)) events |= POLLIN;
        if (bytes_pending(&c->out) > 0) events |= POLLOUT;
        // Even with no events asked, poll reports a client that hung up.
        fds[n] = (struct pollfd){.fd = c->fd, .events = events};
        tags[n++] = TAG_CLIENT + i;
    }
    if (poll(fds, (nfds_t)n, -1) < 0) return;
    for (int i = 0; i < n; i++) {
        short re = fds[i].revents;
        if (re == 0) continue;
        switch (tags[i]) {
        case TAG_SIGNAL: reap(m); break;
        case TAG_SYNC: (void)handle_sync(m); break;
        case TAG_CONTROL_LISTEN: accept_client(m, m->control_listen, true); break;
        case TAG_ATTACH_LISTEN: accept_client(m, m->attach_listen, false); break;
        case TAG_OUT0: read_output(m, &m->out[0]); break;
        case TAG_OUT1: read_output(m, &m->out[1]); break;
        case TAG_STDIN:
            if (re & (POLLERR | POLLHUP)) {
                if (m->setup->terminal) bytes_free(&m->stdin_queue);
                else close_stdin_now(m);
            } else flush_stdin(m);
            break;
        default: {
            struct client *c = &m->clients[tags[i] - TAG_CLIENT];
            if (c->fd != fds[i].fd) break;
            if (re & POLLIN) {
                if (c->control) read_control(m, c);
                else read_attach(m, c);
            }
            if (c->fd >= 0 && (re & POLLOUT) && !client_flush(c)) client_close(c);
            if (c->fd >= 0 && (re & (POLLERR | POLLNVAL))) client_close(c);
            if (c->fd >= 0 && (re & POLLHUP) && !(re & POLLIN)) client_close(c);
        }
        }
    }
}

// After the process exited: everything it wrote is in the pipes (its pid namespace is
// gone, so no other writer is left); read it all before reporting the exit.
static void drain(struct monitor *m) {
    while (m->sync_fd >= 0 && handle_sync(m)) {}
    for (int i = 0; i < 2; i++)
        while (read_output(m, &m->out[i])) {}
}

// Polls only the given kind of clients until their queues are sent or the time is up.
static void flush_clients(struct monitor *m, bool control, int timeout_ms) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd fds[MAX_CLIENTS];
        int idx[MAX_CLIENTS], n = 0;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &m->clients[i];
            if (c->fd < 0 || c->control != control || bytes_pending(&c->out) == 0) continue;
            fds[n] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
            idx[n++] = i;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (n == 0 || elapsed >= timeout_ms) return;
        if (poll(fds, (nfds_t)n, (int)(timeout_ms - elapsed)) <= 0) continue;
        for (int i = 0; i < n; i++) {
            struct client *c = &m->clients[idx[i]];
            if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) client_close(c);
            else if ((fds[i].revents & POLLOUT) && !client_flush(c)) client_close(c);
        }
    }
}

// A setup that failed before pierd connected still tells pierd, if it connects soon
// (attach clients that come meanwhile are taken too: they get their end of file).
static void wait_for_a_control_client(struct monitor *m) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!m->ever_had_control) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= WAIT_FOR_CONTROL_MS) return;
        struct pollfd p[2] = {{.fd = m->control_listen, .events = POLLIN}, {.fd = m->attach_listen, .events = POLLIN}};
        if (poll(p, 2, (int)(WAIT_FOR_CONTROL_MS - elapsed)) <= 0) continue;
        if (p[1].revents & POLLIN) accept_client(m, m->attach_listen, false);
        if (p[0].revents & POLLIN) accept_client(m, m->control_listen, true);
    }
}

static void finish(struct monitor *m) {
    struct exit_record r = {.error = m->failed ? m->error : ""};
    if (m->reaped) {
        if (WIFSIGNALED(m->status)) {
            r.signal = WTERMSIG(m->status);
            r.exit_code = 128 + r.signal;
        } else {
            r.exit_code = WEXITSTATUS(m->status);
        }
    } else {
        r.exit_code = 125;
        timestamp_now(&m->finished_at);
    }
    if (m->started) r.started_at = m->started_at;
    r.finished_at = m->finished_at;
    const struct monitor_setup *s = m->setup;
    // As Docker: the kernel killed something in the container's cgroup for memory.
    r.oom_killed = s->ncgroup_procs > 0 && cgroup_oom_kills(s->cgroup_procs, s->ncgroup_procs) > s->oom_kills_before;
    (void)exitfile_write(s->exit_path, &r);

    wait_for_a_control_client(m);
    flush_clients(m, false, FLUSH_ATTACH_MS);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (m->clients[i].fd >= 0 && !m->clients[i].control) client_close(&m->clients[i]);
    send_event(m, NULL, "exited %d %d %d", r.exit_code, r.signal, r.oom_killed ? 1 : 0);
    flush_clients(m, true, FLUSH_CONTROL_MS);
    // Gone from the directory before the clients see their end of file.
    unlink(s->control_path);
    unlink(s->attach_path);
    close(m->control_listen);
    close(m->attach_listen);
    for (int i = 0; i < MAX_CLIENTS; i++) client_close(&m->clients[i]);
    // Everyone knows: now the mount namespace may go (see monitor.h), then the disk catches up.
    if (s->mount_ns_fd >= 0) close(s->mount_ns_fd);
    exitfile_sync(s->exit_path);
}

int monitor_run(const struct monitor_setup *setup) {
    struct monitor m;
    memset(&m, 0, sizeof(m));
    m.setup = setup;
    m.pid = setup->pid;
    m.sync_fd = setup->sync_fd;
    m.control_listen = setup->control_listen;
    m.attach_listen = setup->attach_listen;
    m.master = -1;
    m.stdin_fd = setup->stdin_fd;
    m.out[0] = (struct output){.fd = setup->stdout_fd, .stream = 1};
    m.out[1] = (struct output){.fd = setup->stderr_fd, .stream = 2};
    for (int i = 0; i < MAX_CLIENTS; i++) m.clients[i].fd = -1;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    m.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    m.buf = malloc(READ_CHUNK);
    if (m.sigfd < 0 || m.buf == NULL) {
        snprintf(m.error, sizeof(m.error), "monitor: %s", strerror(errno));
        m.failed = true;
        if (m.pid > 0) kill(m.pid, SIGKILL);
    }
    if (setup->pid <= 0) {
        snprintf(m.error, sizeof(m.error), "%s", setup->error != NULL ? setup->error : "setup failed");
        m.failed = true;
    }
    for (int i = 0; i < 2; i++)
        if (m.out[i].fd >= 0) set_nonblocking(m.out[i].fd);
    if (m.stdin_fd >= 0) set_nonblocking(m.stdin_fd);
    if (m.sync_fd >= 0) set_nonblocking(m.sync_fd);

    if (m.pid > 0 && m.sigfd >= 0 && m.buf != NULL) {
        reap(&m);   // it may have exited before the signalfd existed
        while (!m.reaped) poll_once(&m);
        drain(&m);
    } else if (m.pid > 0) {
        waitpid(m.pid, &m.status, 0);
        m.reaped = true;
    }
    finish(&m);
    for (int i = 0; i < 2; i++) close_output(&m, &m.out[i]);
    if (m.stdin_fd >= 0) close(m.stdin_fd);
    if (m.sync_fd >= 0) close(m.sync_fd);
    bytes_free(&m.stdin_queue);
    free(m.buf);
    return 0;
}
