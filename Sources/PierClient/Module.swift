// PierClient
