import DurableIO

/// Why a KEK could not be loaded or could not wrap or unwrap a DEK.
///
/// Each description is one log line that names the flag, file or variable and the remedy; the normative names
/// of DESIGN §5 (`ErrKEKFilePermissions`, `ErrKEKMismatch`, `ErrKEKRequired`) appear where they apply. No
/// description contains key bytes, wrapped bytes or the variable's value.
public enum KEKError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The KEK file grants some access to group or others; the associated values are its path and mode.
    case filePermissions(path: String, mode: UInt16)
    /// The KEK file does not hold exactly 32 bytes.
    case fileWrongSize(path: String, byteCount: Int)
    /// The KEK file could not be inspected or read.
    case fileUnreadable(FileSystemError)
    /// The environment variable is not set (or empty).
    case environmentVariableMissing(name: String)
    /// The environment variable is not valid standard base64.
    case environmentInvalidBase64(name: String)
    /// The environment variable decodes to other than 32 bytes.
    case environmentWrongSize(name: String, byteCount: Int)
    /// A wrapped DEK does not unwrap with the configured KEK; `source` names where the KEK came from.
    case mismatch(source: String)
    /// A wrapped DEK has a size no 32-byte DEK wraps to; `source` names where the KEK came from.
    case malformedWrappedKey(source: String, byteCount: Int)
    /// Wrapping failed inside libcrypto.
    case wrapFailure(KeyWrapError)

    public var description: String {
        switch self {
        case .filePermissions(let path, let mode):
            return "ErrKEKFilePermissions: KEK file \(path) has mode \(octal(mode)) and is accessible by group or "
                + "others; run `chmod 600 \(path)` (owner read/write only) and restart"
        case .fileWrongSize(let path, let count):
            return "KEK file \(path) holds \(count) bytes; it must hold exactly 32 raw bytes (not hex or base64), "
                + "e.g. from `head -c 32 /dev/urandom`; check --kek-file"
        case .fileUnreadable(let error):
            return "ErrKEKRequired: cannot read the KEK file (\(error)); check --kek-file and its owner"
        case .environmentVariableMissing(let name):
            return "ErrKEKRequired: environment variable \(name) is not set; set it to the base64 of 32 random bytes"
        case .environmentInvalidBase64(let name):
            return "environment variable \(name) is not valid base64; set it to the base64 of 32 random bytes"
        case .environmentWrongSize(let name, let count):
            return "environment variable \(name) decodes to \(count) bytes; the KEK must be exactly 32 bytes"
        case .mismatch(let source):
            return "ErrKEKMismatch: a wrapped DEK does not unwrap with the KEK from \(source); every member must be "
                + "configured with the cluster's KEK (same key bytes)"
        case .malformedWrappedKey(let source, let count):
            return "ErrKEKMismatch: a wrapped DEK of \(count) bytes (40 expected) cannot be unwrapped with the KEK "
                + "from \(source); the sidecar entry is corrupt"
        case .wrapFailure(let error):
            return "wrapping a DEK failed: \(error)"
        }
    }

    private func octal(_ mode: UInt16) -> String {
        let digits = String(mode, radix: 8)
        return "0" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
