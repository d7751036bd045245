// PierServer
