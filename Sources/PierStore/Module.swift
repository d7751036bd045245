// PierStore
