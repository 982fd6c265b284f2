#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Encryption

/// A KEK held by an external command (`--kek exec:PATH`, DESIGN §3.4), for key services elastickv has no client
/// for (Vault's transit engine, a cloud CLI, an HSM vendor's tool).
///
/// **The protocol**, which operators script against:
///
/// - `PATH wrap` reads a DEK on stdin and writes its wrap on stdout; `PATH unwrap` reads a wrap that `PATH wrap`
///   wrote and writes the DEK on stdout. The command is executed directly, never through a shell: its arguments
///   are exactly `PATH` and `wrap` or `unwrap`. It gets the node's environment (so `VAULT_ADDR`, `VAULT_TOKEN`
///   or `AWS_*` given to the node reach it) and working directory, default signal dispositions, an empty signal
///   mask, and no open file descriptors but 0, 1 and 2.
/// - Every value on stdin and stdout is standard base64 (RFC 4648 §4, `=`-padded). Stdin holds one line, the
///   base64 and a newline, then end of file. On stdout ASCII whitespace is ignored anywhere (`base64`'s
///   76-column lines and a final newline are fine); any other character outside the alphabet is an error. A DEK
///   is 32 bytes; a wrap is 1 to 49152 bytes (at most 65536 base64 characters). Base64 and not raw bytes,
///   because raw key bytes do not survive a shell variable: bash drops NUL bytes and `$(…)` strips trailing
///   newlines, and one random DEK in eight holds a NUL byte, so a script that keeps the DEK in a variable would
///   wrap a damaged key without any error and the DEK would be lost at the next start. Base64 survives
///   variables, `echo` and `$(…)`, and is what `vault write transit/encrypt/… plaintext=…` and the AWS CLI take
///   and print; `base64 -d` and `base64 -w0` adapt raw tools such as `openssl`.
/// - Exit status 0 is success. 75 (`EX_TEMPFAIL`) is a transient failure (the service is unreachable or
///   throttling): ``KEKProviderError/unavailable(provider:reason:)``, which the caller retries later. 65
///   (`EX_DATAERR`) from `unwrap` says the bytes were not wrapped by this KEK or were altered:
///   ``KEKProviderError/mismatch(provider:)`` (`ErrKEKMismatch`). Every other outcome is a refusal a retry will
///   not fix (``KEKProviderError/rejected(provider:reason:)``): any other status, 65 from `wrap`, death by a
///   signal, stdout that is not base64 or longer than 65536 bytes, an empty wrap, and an unwrap that does not
///   decode to exactly 32 bytes. A wrong size is a refusal and not a mismatch because it is a bug in the script
///   (hex output, a stray line), and `ErrKEKMismatch` would send the operator to compare the cluster's KEKs.
/// - Errors quote the first line of stderr (control and format characters removed, trimmed, at most 200
///   characters) so the operator sees the service's reason. The line is left out when it is not UTF-8, or when
///   it holds 8 or more consecutive bytes of the DEK, of the wrap or of stdout: raw, in hex (either case, any
///   separators, `0x` prefixes) or in base64 (standard or URL-safe alphabet, any padding). A script tracing
///   with `set -x`, or echoing its input, must not put key bytes into the node's logs. At most 64 KiB of stderr
///   is kept; the rest is read and dropped.
/// - A call must end (the command exits and closes stdout and stderr) within the deadline, 5 s unless
///   configured. Otherwise the command's process group (the command leads a new one) is killed with SIGKILL,
///   the command is reaped, and the call is unavailable. A background process left holding stdout or stderr
///   open counts as the command still running.
/// - PATH must be absolute and name an executable regular file. The file and the directory holding it (after
///   symbolic links are resolved) must be owned by root or by the node's user and not be writable by group or
///   others (the directory may be if it has the sticky bit, like /tmp): whoever can change the command receives
///   every DEK. This is checked at construction and again before every call.
/// - The URI takes no options. An `exec:` KEK's id is its URI without the query, so an option that chose a key
///   or passed an argument would give two different KEKs one id; such choices belong in the script, one per KEK.
///
/// One call is one attempt with a deadline; retries, backoff and the circuit breaker belong to the caller.
public struct ExecKEKProvider: KEKProvider {
    /// The exit status of a transient failure (`EX_TEMPFAIL` in sysexits.h).
    public static let temporaryFailureStatus: Int32 = 75
    /// The exit status of an unwrap given bytes this KEK did not wrap (`EX_DATAERR` in sysexits.h).
    public static let dataErrorStatus: Int32 = 65
    /// The most stdout a call accepts, in bytes of base64.
    public static let maxOutputBytes = 65536
    /// The largest wrap: what ``maxOutputBytes`` of base64 decode to.
    public static let maxWrappedBytes = maxOutputBytes / 4 * 3
    /// The most stderr a call keeps, in bytes; the rest is read and dropped.
    public static let maxKeptErrorOutputBytes = 65536
    /// The most characters of stderr's first line an error quotes.
    public static let maxQuotedCharacters = 200
    /// The shortest run of a secret's bytes that keeps stderr out of an error.
    public static let leakWindowBytes = 8
    /// How long a call may take unless configured.
    public static let defaultDeadline: Duration = .seconds(5)

    /// The command, as configured (absolute).
    public let path: String
    /// How long one call may take before the command is killed.
    public let deadline: Duration
    /// The kek id and the name errors use: the URI without its query.
    private let name: String

    /// Checks the command that `uri` (`exec:PATH`) names.
    ///
    /// - Parameters:
    ///   - uri: an `exec:` URI, without options.
    ///   - deadline: how long one call may take before the command is killed.
    /// - Throws: ``KEKURIError/unknownOptions(scheme:names:)`` for any option;
    ///   ``KEKProviderError/misconfigured(provider:reason:)`` when PATH is relative or the command is missing, not
    ///   an executable regular file, or changeable by someone else.
    public init(uri: KEKURI, deadline: Duration = defaultDeadline) throws {
        precondition(uri.scheme == "exec", "ExecKEKProvider runs exec: URIs only")
        precondition(deadline > .zero, "an exec: KEK needs a positive deadline")
        let unknown = uri.unknownOptions(known: [])
        guard unknown.isEmpty else { throw KEKURIError.unknownOptions(scheme: uri.scheme, names: unknown) }
        self.path = uri.body
        self.deadline = deadline
        self.name = uri.withoutQuery
        if let problem = Self.commandProblem(at: path) {
            throw KEKProviderError.misconfigured(provider: name, reason: problem)
        }
    }

    /// Runs `PATH wrap` with the DEK on stdin.
    ///
    /// - Returns: the decoded bytes the command printed.
    /// - Throws: ``KEKProviderError``, as the protocol above says.
    public func wrap(_ key: DataEncryptionKey) throws(KEKProviderError) -> [UInt8] {
        try key.secret.withUnsafeBytes { (dek) throws(KEKProviderError) -> [UInt8] in
            let capture = try call(.wrap, input: dek)
            guard let wrapped = capture.withStdout(Self.decodeBase64), !wrapped.isEmpty else {
                let what = capture.stdoutCount == 0 ? "printed nothing on stdout" : "printed something not base64"
                throw .rejected(provider: name, reason: "wrap exited 0 but " + what + stderrNote(capture, input: dek))
            }
            return wrapped
        }
    }

    /// Runs `PATH unwrap` with `wrapped` on stdin.
    ///
    /// - Throws: ``KEKProviderError/mismatch(provider:)`` when the command exits with 65 or `wrapped` has a size
    ///   no wrap of this provider has; otherwise ``KEKProviderError``, as the protocol above says.
    public func unwrap(_ wrapped: [UInt8]) throws(KEKProviderError) -> DataEncryptionKey {
        guard !wrapped.isEmpty, wrapped.count <= Self.maxWrappedBytes else { throw .mismatch(provider: name) }
        var outcome: Result<DataEncryptionKey, KEKProviderError>!
        wrapped.withUnsafeBytes { input in
            outcome = Result { () throws(KEKProviderError) in try unwrapBytes(input) }
        }
        return try outcome.get()
    }

    private func unwrapBytes(_ input: UnsafeRawBufferPointer) throws(KEKProviderError) -> DataEncryptionKey {
        let capture = try call(.unwrap, input: input)
        guard var bytes = capture.withStdout(Self.decodeBase64) else {
            let note = stderrNote(capture, input: input)
            throw .rejected(provider: name, reason: "unwrap exited 0 but printed something not base64" + note)
        }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        guard bytes.count == DataEncryptionKey.byteCount else {
            throw .rejected(
                provider: name,
                reason: "unwrap printed \(bytes.count) bytes (after base64 decoding); it must print the 32-byte DEK"
                    + stderrNote(capture, input: input))
        }
        do {
            return try DataEncryptionKey(bytes: bytes)
        } catch {
            preconditionFailure("32 bytes always make a DEK")
        }
    }

    /// An `exec:` KEK is compared by its id, the URI without its query: checking must not run the command (the
    /// leader polls check values) and a command's wraps need not be deterministic.
    public var checkValue: String? { name }

    private enum Operation: String {
        case wrap, unwrap
    }

    /// Runs the command once with `input` (raw; sent as base64) and returns what it printed when it exited 0.
    ///
    /// - Throws: the error for any other outcome.
    private func call(_ operation: Operation, input: UnsafeRawBufferPointer) throws(KEKProviderError) -> Capture {
        if let problem = Self.commandProblem(at: path) { throw .misconfigured(provider: name, reason: problem) }
        var line = Self.base64Line(input)
        defer { line.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        let capture = Capture()
        let termination: Termination
        do throws(StartFailure) {
            termination = try Self.run(
                path: path, argument: operation.rawValue, input: line, deadline: deadline, into: capture)
        } catch {
            let reason = "cannot start `\(operation.rawValue)`: \(Self.errorText(error.code))"
            let transient = [EAGAIN, ENOMEM, EMFILE, ENFILE].contains(error.code)
            if transient { throw .unavailable(provider: name, reason: reason) }
            throw .misconfigured(provider: name, reason: reason)
        }
        if termination == .exited(0) { return capture }
        throw failure(operation, termination, capture: capture, input: input)
    }

    /// The error for a run that did not exit 0.
    private func failure(
        _ operation: Operation, _ termination: Termination, capture: Capture, input: UnsafeRawBufferPointer
    ) -> KEKProviderError {
        let command = operation.rawValue
        let note = stderrNote(capture, input: input)
        switch termination {
        case .exited(Self.temporaryFailureStatus):
            return .unavailable(provider: name, reason: "\(command) exited with status 75 (EX_TEMPFAIL)" + note)
        case .exited(Self.dataErrorStatus) where operation == .unwrap:
            return .mismatch(provider: name)
        case .exited(let status):
            return .rejected(provider: name, reason: "\(command) exited with status \(status)" + note)
        case .signaled(let signal):
            return .rejected(provider: name, reason: "\(command) was killed by signal \(signal)" + note)
        case .timedOut:
            let limit = Self.describe(deadline)
            let reason = "\(command) did not finish within \(limit) and was killed"
            return .unavailable(provider: name, reason: reason + note)
        case .outputTooLarge:
            let limit = Self.maxOutputBytes
            return .rejected(provider: name, reason: "\(command) printed more than \(limit) bytes on stdout" + note)
        case .statusLost:
            return .rejected(
                provider: name, reason: "the exit status of \(command) was lost (does the node ignore SIGCHLD?)")
        }
    }

    /// What an error says about stderr: its first line, or why that is not shown, or nothing when it is empty.
    private func stderrNote(_ capture: Capture, input: UnsafeRawBufferPointer) -> String {
        capture.withStderr { stderr in
            let firstLine = UnsafeRawBufferPointer(rebasing: stderr[..<(stderr.firstIndex(of: 0x0A) ?? stderr.count)])
            guard let text = String(validating: firstLine, as: UTF8.self) else {
                return "; stderr not shown (not UTF-8 text)"
            }
            let printable = String(String.UnicodeScalarView(text.unicodeScalars.filter(Self.isPrintable)))
            guard let first = printable.firstIndex(where: { !$0.isWhitespace }),
                  let last = printable.lastIndex(where: { !$0.isWhitespace })
            else { return "" }
            let trimmed = printable[first...last]
            // The whole line is checked, not only the quoted part, so that an encoded secret cut by the limit is
            // still recognised; the raw line too, since removing control characters can split a raw secret.
            var checked = Array(trimmed.utf8)
            defer { checked.withUnsafeMutableBytes { SecretBytes.zero($0) } }
            let leaks = capture.withStdout { stdout in
                checked.withUnsafeBytes { Self.repeatsSecret(in: [$0, firstLine], secrets: [input, stdout]) }
            }
            if leaks { return "; stderr not shown (it repeats bytes of the key, the wrap or stdout)" }
            return "; stderr: " + String(trimmed.prefix(Self.maxQuotedCharacters))
        }
    }

    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return false
        default:
            return true
        }
    }
}

// MARK: - The command's path

extension ExecKEKProvider {
    /// Why the command at `path` must not be run, or nil when it may.
    static func commandProblem(at path: String) -> String? {
        guard path.hasPrefix("/") else { return "PATH must be absolute, as in exec:/usr/local/bin/elastickv-kek" }
        guard let resolvedPointer = realpath(path, nil) else { return "cannot resolve \(path): \(errorText(errno))" }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        var file = stat()
        guard stat(resolved, &file) == 0 else { return "cannot inspect \(path): \(errorText(errno))" }
        guard file.st_mode & S_IFMT == S_IFREG else { return "\(path) is not a regular file" }
        guard access(resolved, X_OK) == 0 else { return "\(path) is not executable by the node's user" }
        if let problem = permissionProblem(file, of: path, isDirectory: false) { return problem }
        let slash = resolved.lastIndex(of: "/")!  // an absolute resolved path has one
        let directory = slash == resolved.startIndex ? "/" : String(resolved[..<slash])
        var folder = stat()
        guard stat(directory, &folder) == 0 else { return "cannot inspect \(directory): \(errorText(errno))" }
        return permissionProblem(folder, of: directory, isDirectory: true)
    }

    /// Why a file or directory with status `info` lets someone other than root and the node's user change the
    /// command, or nil.
    private static func permissionProblem(_ info: stat, of path: String, isDirectory: Bool) -> String? {
        let what = isDirectory ? "the directory \(path)" : path
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            return "\(what) is owned by uid \(info.st_uid); it must be owned by root or by the node's user"
        }
        let sticky = info.st_mode & S_ISVTX != 0
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 || (isDirectory && sticky) else {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            return "\(what) has mode \(mode) and is writable by group or others, who could make the command "
                + "capture every DEK; run `chmod go-w \(path)`"
        }
        return nil
    }

    /// `strerror(3)`'s text for `code`.
    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// `5 s`, `500 ms`.
    private static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return "\(seconds) s" }
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }
}

// MARK: - Base64 and the leak check

extension ExecKEKProvider {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` in standard base64 with a newline: what the command reads.
    static func base64Line(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity((bytes.count + 2) / 3 * 4 + 1)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                let sextet = Int(group >> (18 - 6 * position) & 0x3f)
                line.append(position <= count ? alphabet[sextet] : UInt8(ascii: "="))
            }
            index += 3
        }
        line.append(0x0A)
        return line
    }

    /// Decodes the command's stdout: standard base64 with `=` padding, ASCII whitespace ignored anywhere; nil for
    /// anything else. The caller zeroes the result when it holds a DEK.
    static func decodeBase64(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var sextets: [UInt8] = []
        sextets.reserveCapacity(text.count)
        defer { sextets.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        var padding = 0
        for byte in text {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            case UInt8(ascii: "="):
                padding += 1
            default:
                guard padding == 0, let value = sextet(byte, urlSafe: false) else { return nil }
                sextets.append(value)
            }
        }
        guard (sextets.count + padding) % 4 == 0, padding <= 2, padding == 0 || sextets.count % 4 == 4 - padding
        else { return nil }
        return packed(sextets[...], bitsPerDigit: 6)
    }

    /// Whether any of `texts`, read raw, as hex or as base64, holds ``leakWindowBytes`` consecutive bytes of any
    /// of `secrets` or of their own hex or base64 readings.
    static func repeatsSecret(in texts: [UnsafeRawBufferPointer], secrets: [UnsafeRawBufferPointer]) -> Bool {
        var secretSpellings = secrets.flatMap(spellings)
        var known = windows(of: secretSpellings)
        defer {
            zero(&secretSpellings)
            known.withUnsafeMutableBytes { SecretBytes.zero($0) }
        }
        guard !known.isEmpty else { return false }
        known.sort()
        for text in texts {
            var candidates = spellings(of: text)
            var seen = windows(of: candidates)
            defer {
                zero(&candidates)
                seen.withUnsafeMutableBytes { SecretBytes.zero($0) }
            }
            if seen.contains(where: { sortedContains(known, $0) }) { return true }
        }
        return false
    }

    /// The byte strings `text` may spell: itself, its hex digits paired from the first or the second one (`0x`
    /// prefixes skipped), and its base64 characters (either alphabet) grouped from each of four offsets. Other
    /// characters are skipped, so separators and surrounding words do not hide an encoded run.
    static func spellings(of text: UnsafeRawBufferPointer) -> [[UInt8]] {
        var hexDigits: [UInt8] = []
        var sextets: [UInt8] = []
        hexDigits.reserveCapacity(text.count)
        sextets.reserveCapacity(text.count)
        defer {
            hexDigits.withUnsafeMutableBytes { SecretBytes.zero($0) }
            sextets.withUnsafeMutableBytes { SecretBytes.zero($0) }
        }
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "0"), index + 1 < text.count, text[index + 1] | 0x20 == UInt8(ascii: "x") {
                index += 2
                continue
            }
            if let value = hexValue(byte) { hexDigits.append(value) }
            index += 1
        }
        for byte in text { if let value = sextet(byte, urlSafe: true) { sextets.append(value) } }
        var result = [Array(text)]
        for offset in 0..<2 where offset < hexDigits.count {
            result.append(packed(hexDigits[offset...], bitsPerDigit: 4))
        }
        for offset in 0..<4 where offset < sextets.count {
            result.append(packed(sextets[offset...], bitsPerDigit: 6))
        }
        return result
    }

    private static func zero(_ strings: inout [[UInt8]]) {
        for index in strings.indices { strings[index].withUnsafeMutableBytes { SecretBytes.zero($0) } }
    }

    /// Every run of ``leakWindowBytes`` bytes in `strings`, as integers.
    private static func windows(of strings: [[UInt8]]) -> [UInt64] {
        var windows: [UInt64] = []
        windows.reserveCapacity(strings.reduce(0) { $0 + max(0, $1.count - leakWindowBytes + 1) })
        for string in strings where string.count >= leakWindowBytes {
            string.withUnsafeBytes { bytes in
                for offset in 0...(bytes.count - leakWindowBytes) {
                    windows.append(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                }
            }
        }
        return windows
    }

    private static func sortedContains(_ sorted: [UInt64], _ value: UInt64) -> Bool {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] == value
    }

    /// Digits of `bitsPerDigit` bits each, packed into bytes; leftover bits are dropped.
    private static func packed(_ digits: ArraySlice<UInt8>, bitsPerDigit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count * bitsPerDigit / 8)
        var accumulator: UInt32 = 0
        var bits = 0
        for digit in digits {
            accumulator = accumulator << UInt32(bitsPerDigit) | UInt32(digit)
            bits += bitsPerDigit
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        accumulator = 0
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func sextet(_ byte: UInt8, urlSafe: Bool) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        case UInt8(ascii: "-") where urlSafe: return 62
        case UInt8(ascii: "_") where urlSafe: return 63
        default: return nil
        }
    }
}
