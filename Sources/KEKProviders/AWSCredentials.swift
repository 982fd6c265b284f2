import Encryption
import Foundation

/// The AWS credentials a request is signed with: an access key id, a secret access key and, for temporary
/// credentials, a session token.
///
/// DESIGN §3.4: credentials come from the usual AWS environment variables or a profile of the shared
/// credentials file, never from the command line. ``resolve(profile:environment:)`` looks, in order, at an
/// explicitly named profile (the `profile=` option of the `aws-kms:` URI), then at `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, then at the profile `AWS_PROFILE` (or `default`) of
/// `AWS_SHARED_CREDENTIALS_FILE` (or `~/.aws/credentials`). An explicit profile wins over the environment, as
/// in the AWS SDKs, because it is the operator's choice for this KEK. The secret key lives in ``SecretBytes``;
/// the file's bytes are zeroed once parsed; the description names only where the credentials came from.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    /// The access key id (`AKIA…`, `ASIA…`); it names the credentials but does not prove them.
    public let accessKeyID: String
    /// The secret access key: read only to derive signing keys.
    let secretAccessKey: SecretBytes
    /// The session token of temporary credentials, sent as `X-Amz-Security-Token`.
    let sessionToken: String?
    /// Where the credentials came from (`environment`, `profile default of /root/.aws/credentials`).
    public let source: String

    /// Credentials given directly (tests and callers with their own source).
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = SecretBytes(copying: Array(secretAccessKey.utf8))
        self.sessionToken = sessionToken
        self.source = source
    }

    private init(accessKeyID: String, secretAccessKey: SecretBytes, sessionToken: String?, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        "AWSCredentials(from \(source)\(sessionToken == nil ? "" : ", temporary"), secret <redacted>)"
    }

    /// Finds the credentials to use now.
    ///
    /// - Parameters:
    ///   - profile: the profile named in the URI, or nil.
    ///   - environment: the process environment (a fixed one in tests).
    /// - Throws: ``Failure`` when no complete credentials are found or the credentials file cannot be read.
    public static func resolve(profile: String?, environment: [String: String]) throws(Failure) -> AWSCredentials {
        if profile == nil, let fromEnvironment = try fromEnvironment(environment) { return fromEnvironment }
        let name = profile ?? nonEmpty(environment["AWS_PROFILE"]) ?? "default"
        return try fromFile(path: credentialsFilePath(environment), profile: name)
    }

    /// Why no credentials could be found. Descriptions name variables, files and profiles, never values.
    public enum Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// Only one of `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` is set.
        case incompleteEnvironment(missing: String)
        /// The credentials file exists but cannot be read.
        case fileUnreadable(path: String)
        /// Neither the environment nor the credentials file has credentials for `profile`.
        case notFound(profile: String, path: String)
        /// The profile lacks `aws_access_key_id` or `aws_secret_access_key`.
        case incompleteProfile(profile: String, path: String, missing: String)

        public var description: String {
            switch self {
            case .incompleteEnvironment(let missing):
                return "AWS credentials in the environment are incomplete: \(missing) is not set"
            case .fileUnreadable(let path):
                return "the AWS shared credentials file \(path) cannot be read"
            case .notFound(let profile, let path):
                return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the profile "
                    + "[\(profile)] to \(path) (AWS_SHARED_CREDENTIALS_FILE)"
            case .incompleteProfile(let profile, let path, let missing):
                return "the profile [\(profile)] in \(path) has no \(missing)"
            }
        }
    }

    private static func fromEnvironment(_ environment: [String: String]) throws(Failure) -> AWSCredentials? {
        let accessKeyID = nonEmpty(environment["AWS_ACCESS_KEY_ID"])
        let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
        switch (accessKeyID, secret) {
        case (nil, nil): return nil
        case (nil, _): throw .incompleteEnvironment(missing: "AWS_ACCESS_KEY_ID")
        case (_, nil): throw .incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")
        case (let accessKeyID?, let secret?):
            return AWSCredentials(
                accessKeyID: accessKeyID, secretAccessKey: secret,
                sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]), source: "environment")
        }
    }

    /// `AWS_SHARED_CREDENTIALS_FILE` or `$HOME/.aws/credentials`, with a leading `~/` expanded.
    static func credentialsFilePath(_ environment: [String: String]) -> String {
        let home = nonEmpty(environment["HOME"]) ?? NSHomeDirectory()
        guard let path = nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"]) else { return home + "/.aws/credentials" }
        return path.hasPrefix("~/") ? home + path.dropFirst() : path
    }

    private static func fromFile(path: String, profile: String) throws(Failure) -> AWSCredentials {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(profile: profile, path: path) }
        guard var data = FileManager.default.contents(atPath: path) else { throw .fileUnreadable(path: path) }
        var bytes = [UInt8](data)
        data.withUnsafeMutableBytes { SecretBytes.zero($0) }
        // Parsed in a function of its own so that no slice of `bytes` is alive when it is zeroed (a live slice
        // would make the zeroing write to a copy).
        let parsed = Result { () throws(Failure) in try parse(bytes, path: path, profile: profile) }
        bytes.withUnsafeMutableBytes { SecretBytes.zero($0) }
        return try parsed.get()
    }

    private static func parse(_ bytes: [UInt8], path: String, profile: String) throws(Failure) -> AWSCredentials {
        guard let section = profileValues(bytes, profile: profile) else {
            throw .notFound(profile: profile, path: path)
        }
        guard let accessKeyID = section["aws_access_key_id"].map({ String(decoding: $0, as: UTF8.self) }) else {
            throw .incompleteProfile(profile: profile, path: path, missing: "aws_access_key_id")
        }
        guard let secret = section["aws_secret_access_key"] else {
            throw .incompleteProfile(profile: profile, path: path, missing: "aws_secret_access_key")
        }
        let token = section["aws_session_token"].map { String(decoding: $0, as: UTF8.self) }
        return AWSCredentials(
            accessKeyID: accessKeyID, secretAccessKey: SecretBytes(copying: secret),
            sessionToken: token, source: "profile \(profile) of \(path)")
    }

    /// The non-empty `key = value` items of the section `[profile]` of an INI file (names lower-cased, later
    /// items win), or nil when the section is absent. Lines starting with `#` or `;` are comments.
    static func profileValues(_ bytes: [UInt8], profile: String) -> [String: ArraySlice<UInt8>]? {
        var values: [String: ArraySlice<UInt8>]?
        var inProfile = false
        for rawLine in bytes.split(omittingEmptySubsequences: true, whereSeparator: { $0 == 0x0A || $0 == 0x0D }) {
            let line = trimmed(rawLine)
            guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
            if first == UInt8(ascii: "["), line.last == UInt8(ascii: "]") {
                let name = String(decoding: trimmed(line.dropFirst().dropLast()), as: UTF8.self)
                inProfile = name == profile
                if inProfile, values == nil { values = [:] }
                continue
            }
            guard inProfile, let equals = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: trimmed(line[..<equals]), as: UTF8.self).lowercased()
            let value = trimmed(line[(equals + 1)...])
            if !key.isEmpty, !value.isEmpty { values?[key] = value }
        }
        return values
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
            let end = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[start...end]
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
