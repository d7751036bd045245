import CArchive

/// libarchive itself, which pierd loads on first use (Sources/CArchive/lazy.c).
public enum ArchiveLibrary {
    /// Unloads libarchive and the libraries it brought in when no archive or entry is open (an
    /// idle daemon's memory: ~1.6 MB of RSS after a `save` or a `load`); the next use loads it
    /// again. Returns whether it unloaded.
    @discardableResult
    public static func unloadIfUnused() -> Bool {
        pier_archive_unload_if_unused() != 0
    }
}
