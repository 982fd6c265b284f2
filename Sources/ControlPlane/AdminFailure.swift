import Foundation
import GRPCCore

/// What `elastickv-admin` prints on stderr and the status it exits with when a command fails.
///
/// One line, naming the gRPC status and, for a node that is not the leader, the leader's address to retry
/// against. Exit statuses follow DESIGN §6 so scripts branch without parsing text: 75 (temporary failure)
/// means "rerun with `--addr <leader>`" or "the same command may succeed shortly" (leader changing, deadline
/// passed), 69 means the node or the service is unavailable, 65 that the input was refused, 1 anything else.
public struct AdminFailure: Error, Sendable, Hashable {

    /// The line to print on stderr, without a trailing newline.
    public var line: String
    /// What the process exits with.
    public var exitStatus: ExitStatus
    /// A machine-readable name of the failure: the gRPC status name for a node's answer, else one of
    /// `FAILED`, `INVALID_ANSWER`, `REFUSED`, `USAGE`.
    public var code: String

    /// Creates a failure with an explicit line and status.
    public init(line: String, exitStatus: ExitStatus, code: String = "FAILED") {
        self.line = line
        self.exitStatus = exitStatus
        self.code = code
    }

    /// The message without the `error: ` and code prefixes of ``line``.
    public var message: String {
        var text = Substring(line)
        if text.hasPrefix("error: ") { text = text.dropFirst("error: ".count) }
        if text.hasPrefix(code + ": ") { text = text.dropFirst(code.count + 2) }
        return String(text)
    }

    /// The failure as `--json` prints it (DESIGN §6): `{"error": {"code": …, "message": …, "exit_status": …}}`.
    public var json: String {
        let object: [String: Any] = ["error": ["code": code, "message": message, "exit_status": Int(exitStatus.rawValue)]]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return #"{"error":{"code":"FAILED","message":"the failure could not be rendered as JSON"}}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Classifies an error returned by the server (or by the client transport, e.g. connection refused).
    public init(_ error: RPCError) {
        let status = Self.statusName(error.code)
        if error.code == .failedPrecondition,
            let leader = Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]).first
        {
            self.init(
                line: "error: \(status): \(error.message) (rerun with --addr \(leader))",
                exitStatus: .temporaryFailure, code: status)
            return
        }
        self.init(line: "error: \(status): \(error.message)", exitStatus: Self.exitStatus(for: error.code), code: status)
    }

    /// The client transport's own UNAVAILABLE (nothing answered at `address`: refused, unresolvable, timed
    /// out connecting) becomes one line naming the address and what `--addr` is; a node's UNAVAILABLE answer
    /// (no leader, apply halted) is classified by `classify` as usual.
    public static func connecting(to address: String, defaultAddress: String, error: RPCError,
                                  classify: (RPCError) -> AdminFailure) -> AdminFailure {
        let transportFailures = ["establish a connection", "transient failure", "connection refused"]
        guard error.code == .unavailable,
              transportFailures.contains(where: { error.message.localizedCaseInsensitiveContains($0) })
        else { return classify(error) }
        return AdminFailure(
            line: "error: UNAVAILABLE: no node answers at \(address) (\(error.message)); --addr names a running "
                + "node's --grpc-addr (default \(defaultAddress))",
            exitStatus: .unavailable, code: "UNAVAILABLE")
    }

    /// The exit status for a gRPC status the server (or the client transport) answered.
    public static func exitStatus(for code: RPCError.Code) -> ExitStatus {
        switch code {
        case .unavailable: return .unavailable
        case .deadlineExceeded, .aborted: return .temporaryFailure
        case .invalidArgument, .outOfRange: return .dataError
        default: return .failure
        }
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
