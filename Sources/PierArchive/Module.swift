// PierArchive
