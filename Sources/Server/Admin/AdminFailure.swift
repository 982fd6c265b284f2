import GRPCCore

/// What `elastickv-admin` prints on stderr and the status it exits with when a command fails.
///
/// One line, naming the gRPC status and, for a node that is not the leader, the leader's address to retry
/// against. Exit codes let scripts branch without parsing text: `notLeader` (3) means "rerun with
/// `--addr <leader>`", `retryable` (4) means the same command may succeed later, `failed` (1) is anything else.
public struct AdminFailure: Error, Sendable, Hashable {
    /// The process exit status for each kind of failure.
    public enum ExitStatus: Int32, Sendable, Hashable {
        case failed = 1
        case notLeader = 3
        case retryable = 4
    }

    /// The line to print on stderr, without a trailing newline.
    public var line: String
    /// What the process exits with.
    public var exitStatus: ExitStatus

    /// Creates a failure with an explicit line and status.
    public init(line: String, exitStatus: ExitStatus) {
        self.line = line
        self.exitStatus = exitStatus
    }

    /// Classifies an error returned by the server (or by the client transport, e.g. connection refused).
    public init(_ error: RPCError) {
        let status = Self.statusName(error.code)
        if error.code == .failedPrecondition,
            let leader = Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]).first
        {
            self.init(
                line: "error: \(status): \(error.message) (rerun with --addr \(leader))", exitStatus: .notLeader)
            return
        }
        let retryable = error.code == .unavailable || error.code == .deadlineExceeded
        self.init(line: "error: \(status): \(error.message)", exitStatus: retryable ? .retryable : .failed)
    }

    /// The canonical upper-case gRPC name of a status code, as operators see it in gRPC documentation.
    public static func statusName(_ code: RPCError.Code) -> String {
        switch code {
        case .cancelled: return "CANCELLED"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internalError: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        default: return "UNKNOWN"
        }
    }
}
