#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "sync.h"

int console_attach(struct child *c, int master) {
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
        close(master);
        return child_fail(c, "unlock the terminal");
    }
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        close(master);
        return child_fail(c, "open the terminal's slave");
    }
    const struct spec_process *p = &c->spec->process;
    if (p->rows > 0 && p->cols > 0) {
        struct winsize ws = {.ws_row = p->rows, .ws_col = p->cols};
        (void)ioctl(slave, TIOCSWINSZ, &ws);
    }
    int rc = sync_send(c->sync_fd, "console", master);
    close(master);
    if (rc < 0) {
        close(slave);
        return child_fail(c, "hand the terminal to the shim");
    }
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0) return child_fail(c, "make the terminal stdio");
    if (ioctl(0, TIOCSCTTY, 0) < 0) return child_fail(c, "make the terminal the controlling terminal");
    c->console = slave;
    return 0;
}
