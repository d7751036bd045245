// PierCLI
