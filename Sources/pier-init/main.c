// pier-init: a static PID 1 for --init (in progress).
int main(void) { return 0; }
