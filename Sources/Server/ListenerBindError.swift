import ControlPlane
import GRPCCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A listener could not bind its address; names the flag that set it, so the operator knows what to change.
public struct ListenerBindError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The flag the address came from, e.g. `--redis-addr`.
    public var flag: String
    /// The address as configured (`host:port`).
    public var address: String
    /// What the operating system said.
    public var reason: String
    /// The `errno` behind the failure, when one was found.
    public var errno: Int32?

    public init(flag: String, address: String, underlying error: any Error) {
        self.flag = flag
        self.address = address
        let ioError = Self.ioError(in: error)
        errno = ioError?.errnoCode
        reason = ioError.map { String(cString: strerror($0.errnoCode)) } ?? "\(error)"
    }

    /// Whether another address (or stopping whatever holds this one) is the remedy, rather than an I/O fault.
    public var isAddressProblem: Bool {
        guard let errno else { return false }
        return [EADDRINUSE, EADDRNOTAVAIL, EACCES, EPERM].contains(errno)
    }

    /// The exit status (DESIGN §6): 78 when the configured address cannot be used, 74 for other I/O errors.
    public var exitStatus: ExitStatus { isAddressProblem ? .configuration : .ioError }

    public var description: String {
        "\(flag) \(address) cannot be bound: \(reason)"
            + (errno == EADDRINUSE ? "; another process listens there: stop it or choose another address" : "")
    }

    /// The NIO I/O error inside `error`, looking through gRPC's wrapping errors.
    static func ioError(in error: any Error) -> IOError? {
        var current: (any Error)? = error
        for _ in 0..<8 {
            switch current {
            case let io as IOError: return io
            case let runtime as RuntimeError: current = runtime.cause
            case let rpc as RPCError: current = rpc.cause
            default: return nil
            }
        }
        return nil
    }
}
