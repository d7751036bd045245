// PierRegistry: the OCI distribution client and server (in progress).
