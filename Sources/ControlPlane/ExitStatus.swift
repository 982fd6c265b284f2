/// The exit statuses of both executables (DESIGN §6, the BSD `sysexits.h` values).
public enum ExitStatus: Int32, Sendable, Hashable, CaseIterable {
    /// Success, or a clean shutdown.
    case success = 0
    /// Anything not covered below.
    case failure = 1
    /// A usage error: an unknown flag, a malformed flag value.
    case usage = 64
    /// Bad input data.
    case dataError = 65
    /// The service is unavailable: no leader, node unreachable.
    case unavailable = 69
    /// An output file cannot be created.
    case cannotCreate = 73
    /// An I/O error.
    case ioError = 74
    /// A temporary failure that a retry may cure: data directory locked by a live process, leader changing.
    case temporaryFailure = 75
    /// A configuration or start-up refusal (every DESIGN §5 error).
    case configuration = 78
}
