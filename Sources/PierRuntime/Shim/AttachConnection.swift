import Foundation

/// A connection to a shim's `attach.sock`: the container's output from the moment of
/// connecting (stdcopy frames without a terminal, raw bytes with one), and its stdin.
/// pierd hands `fileDescriptor` to the HTTP server, which relays it to the hijacked client
/// connection (NIO: `NIOPipeBootstrap.takingOwnershipOfDescriptor`), so the server owns it then.
public struct AttachConnection: Sendable {
    public let fileDescriptor: Int32

    /// Connects (retrying briefly while the shim is not listening yet). Blocks up to `timeout`.
    public static func connect(_ files: ShimFiles, timeout: Duration = .seconds(5)) throws(RuntimeError) -> AttachConnection {
        AttachConnection(fileDescriptor: try UnixSocket.connect(directory: files.directory, name: files.attachSocketName,
                                                               timeout: timeout))
    }

    public init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    /// Ends the container's stdin as far as this client goes (shutdown SHUT_WR); the shim closes
    /// the container's stdin only with `org.pier.stdin-once=true`.
    public func closeWrite() { shutdown(fileDescriptor, Int32(SHUT_WR)) }

    /// Closes the descriptor (unless it was handed over).
    public func close() { Glibc.close(fileDescriptor) }
}
