// PierRuntime: the Swift side of the container runtime (in progress; see docs/runtime.md).
