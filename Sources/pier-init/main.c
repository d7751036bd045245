// pier-init: the optional `--init` of a container (docs/runtime.md), bind-mounted at
// /sbin/docker-init. As PID 1 it runs its arguments as a child in a process group of
// its own, forwards TERM, INT, HUP, QUIT, USR1, USR2 and WINCH to that group, reaps
// every zombie the container leaves behind, and exits with the child's status
// (128 + signal when the child was killed).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void say(const char *a, const char *b, const char *c) {
    const char *parts[] = {"pier-init: ", a, b, c, "\n"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (parts[i] != NULL && write(2, parts[i], strlen(parts[i])) < 0) return;
}

static void handled_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++) sigaddset(set, FORWARDED[i]);
}

// A PID 1 drops signals it has no handler for, even blocked ones sent from its own
// namespace; a handler (never run: the signals are blocked and waited for) keeps them.
static void on_signal(int sig) { (void)sig; }

static _Noreturn void run_child(char **argv, const sigset_t *original) {
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
        // Take the terminal's foreground, so that ^C reaches the command.
        signal(SIGTTOU, SIG_IGN);
        (void)tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, SIG_DFL);
    }
    for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++) signal(FORWARDED[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, original, NULL);
    execvp(argv[0], argv);
    int err = errno;
    say("exec ", argv[0], err == ENOENT ? ": executable file not found" : ": permission denied or not executable");
    _exit(err == ENOENT ? 127 : 126);
}

static int exit_code(int status) {
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        say("usage: pier-init COMMAND [ARG...]", NULL, NULL);
        return argc < 2 ? 2 : 0;
    }
    int first = strcmp(argv[1], "--") == 0 ? 2 : 1;
    if (first >= argc) {
        say("no command given", NULL, NULL);
        return 2;
    }
    sigset_t handled, original;
    handled_set(&handled);
    sigprocmask(SIG_BLOCK, &handled, &original);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(FORWARDED) / sizeof(FORWARDED[0]); i++) sigaction(FORWARDED[i], &sa, NULL);
    // Not PID 1 (say, the container runs without a pid namespace): orphans still come here.
    if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    pid_t child = fork();
    if (child < 0) {
        say("fork: ", strerror(errno), NULL);
        return 125;
    }
    if (child == 0) run_child(argv + first, &original);
    setpgid(child, child);   // also done by the child: whichever runs first

    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&handled, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            if (kill(-child, sig) < 0) kill(child, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            if (pid == child) return exit_code(status);
        }
    }
}
