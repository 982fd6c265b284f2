import AsyncHTTPClient
import Encryption
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A KEK held in AWS KMS (`--kek aws-kms:KEY_ARN_OR_ALIAS?region=R&endpoint=URL&profile=P`, DESIGN §3.4):
/// DEKs are wrapped by KMS `Encrypt` and unwrapped by `Decrypt`.
///
/// The provider speaks the KMS JSON API (`POST /`, `X-Amz-Target: TrentService.Encrypt|Decrypt`, signed with
/// ``AWSSigV4``) through one `HTTPClient` of its own; the stored wrapped bytes are KMS's `CiphertextBlob`.
/// `Decrypt` names the key too, so a blob of another key is refused by KMS rather than silently decrypted, and
/// both calls send the same encryption context, which KMS binds to the ciphertext. Credentials are looked up on
/// every call (``AWSCredentials``), so rotated environment or file credentials are picked up without a restart.
///
/// Each wrap or unwrap is one HTTP request bounded by `callTimeout`, with no retry (a retrying wrapper decides
/// that from the error): connection failures, timeouts, HTTP 5xx and KMS's throttling and internal errors are
/// ``KEKProviderError/unavailable(provider:reason:)``, a ciphertext KMS cannot decrypt under this key and context
/// is ``KEKProviderError/mismatch(provider:)``, every other refusal is ``KEKProviderError/rejected(provider:reason:)``
/// with KMS's error type and message. Error reasons never carry headers, credentials or key bytes; the buffers
/// of key material this type owns are zeroed after use (copies inside NIO's buffers are out of its reach).
///
/// The wrap and unwrap calls block on the HTTP future, so they must not run on a NIO event loop. Call
/// ``shutdown()`` when the provider is no longer needed.
public final class AWSKMSKEKProvider: KEKProvider, CustomStringConvertible {
    /// The URI scheme.
    public static let scheme = "aws-kms"
    /// The query options the scheme knows.
    public static let knownOptions: Set<String> = ["region", "endpoint", "profile"]
    /// The largest KMS answer read; a real one is well under 2 KiB.
    public static let maxResponseByteCount = 64 * 1024
    /// The longest KMS error message kept in an error reason.
    public static let maxMessageCharacterCount = 240
    /// KMS error types a later retry may get past.
    static let transientErrorTypes: Set<String> = [
        "ThrottlingException", "KMSInternalException", "KeyUnavailableException", "DependencyTimeoutException",
    ]
    /// KMS error types that say the ciphertext is not this key's (or not under this context).
    static let mismatchErrorTypes: Set<String> = ["InvalidCiphertextException", "IncorrectKeyException"]

    /// The URI as given.
    public let uri: KEKURI
    /// The key ARN, key id or alias (`alias/NAME`) that wraps.
    public let keyID: String
    /// The AWS region signed for.
    public let region: String
    /// `scheme://host[:port]` of the KMS endpoint.
    public let endpoint: String
    /// The bound on one wrap or unwrap, connection included.
    public let callTimeout: Duration
    /// The encryption context sent with every call.
    public let encryptionContext: [String: String]
    private let profile: String?
    private let environment: [String: String]
    private let hostHeader: String
    private let client: HTTPClient
    private let now: @Sendable () -> Date

    /// Makes a provider from its URI; no request is sent yet.
    ///
    /// - Parameters:
    ///   - uri: an `aws-kms:` URI. The region comes from `region=`, else `AWS_REGION`, `AWS_DEFAULT_REGION` or
    ///     the key ARN; the endpoint from `endpoint=` (`https://`, or `http://` for a local test server), else
    ///     `https://kms.REGION.amazonaws.com`; `profile=` names a profile of the shared credentials file.
    ///   - encryptionContext: the KMS encryption context of every call; a blob wrapped under one context does
    ///     not unwrap under another.
    ///   - callTimeout: the deadline of each call.
    ///   - environment: where credentials and the default region are looked up.
    ///   - now: the signing clock.
    /// - Throws: ``KEKURIError`` for another scheme, an unknown option, a missing region or a malformed region
    ///   or endpoint.
    public init(
        uri: KEKURI, encryptionContext: [String: String] = [:], callTimeout: Duration = .seconds(5),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(KEKURIError) {
        guard uri.scheme == Self.scheme else { throw .unknownScheme(uri.scheme) }
        let unknown = uri.unknownOptions(known: Self.knownOptions)
        guard unknown.isEmpty else { throw .unknownOptions(scheme: Self.scheme, names: unknown) }
        let region = try Self.region(uri: uri, environment: environment)
        let (endpoint, host) = try Self.endpoint(uri.option("endpoint"), region: region)
        if let profile = uri.option("profile"), profile.isEmpty {
            throw .invalidOption(scheme: Self.scheme, name: "profile", reason: "it is empty")
        }
        self.uri = uri
        self.keyID = uri.body
        self.region = region
        self.endpoint = endpoint
        self.hostHeader = host
        self.callTimeout = callTimeout
        self.encryptionContext = encryptionContext
        self.profile = uri.option("profile")
        self.environment = environment
        self.now = now
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(callTimeout), read: TimeAmount(callTimeout))
        configuration.connectionPool.retryConnectionEstablishment = false  // one attempt per call
        configuration.redirectConfiguration = .disallow
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    deinit {
        // Fails quietly when ``shutdown()`` already ran; otherwise lets the client close its connections.
        _ = client.shutdown()
    }

    /// Closes the HTTP client's connections; later calls fail as unavailable.
    @available(*, noasync, message: "blocks until the HTTP client is shut down")
    public func shutdown() {
        try? client.syncShutdown()
    }

    /// The kek id, the URI without its query.
    public var id: String { uri.withoutQuery }

    public var description: String { "AWSKMSKEKProvider(\(id), region \(region), endpoint \(endpoint))" }

    /// The URI without its query: KMS ciphertexts are randomised, so the wrap-based ``KEKCheck`` value would
    /// differ on every call; members configured with the same key name compare equal.
    public var checkValue: String? { id }

    /// Wraps a DEK with KMS `Encrypt`; the result is KMS's `CiphertextBlob`.
    ///
    /// - Throws: ``KEKProviderError``.
    public func wrap(_ key: DataEncryptionKey) throws(KEKProviderError) -> [UInt8] {
        var plaintext = key.secret.withUnsafeBytes { AWSKMSWire.base64Encoded($0) }
        var body = requestBody(blobName: "Plaintext", base64: plaintext)
        plaintext.withUnsafeMutableBytes { SecretBytes.zero($0) }
        defer { body.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        let answer = try call(target: "TrentService.Encrypt", body: body)
        guard let text = AWSKMSWire.stringMember("CiphertextBlob", in: answer),
            let blob = AWSKMSWire.base64Decoded(text), !blob.isEmpty
        else { throw .rejected(provider: id, reason: "the answer to Encrypt has no CiphertextBlob") }
        return blob
    }

    /// Unwraps a `CiphertextBlob` with KMS `Decrypt`, naming this provider's key and encryption context.
    ///
    /// - Throws: ``KEKProviderError/mismatch(provider:)`` (`ErrKEKMismatch`) when KMS cannot decrypt the blob
    ///   under this key and context or the plaintext is not a 32-byte DEK; other ``KEKProviderError`` cases as
    ///   for ``wrap(_:)``.
    public func unwrap(_ wrapped: [UInt8]) throws(KEKProviderError) -> DataEncryptionKey {
        let body = wrapped.withUnsafeBytes {
            requestBody(blobName: "CiphertextBlob", base64: AWSKMSWire.base64Encoded($0))
        }
        var answer = try call(target: "TrentService.Decrypt", body: body)
        var text = AWSKMSWire.stringMember("Plaintext", in: answer)
        answer.withUnsafeMutableBytes { SecretBytes.zero($0) }
        guard text != nil else { throw .rejected(provider: id, reason: "the answer to Decrypt has no Plaintext") }
        var plaintext = text.flatMap(AWSKMSWire.base64Decoded) ?? []
        text?.withUnsafeMutableBytes { SecretBytes.zero($0) }
        defer { plaintext.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        // KMS decrypted the blob, but a plaintext of another size was never a DEK: the bytes are not a wrap of ours.
        guard plaintext.count == DataEncryptionKey.byteCount, let key = try? DataEncryptionKey(bytes: plaintext) else {
            throw .mismatch(provider: id)
        }
        return key
    }

    /// Sends one signed KMS JSON call (`target` such as `TrentService.Encrypt`) and returns the body of its
    /// HTTP 200 answer; the caller zeroes it when it holds key material. Tests use it for `CreateKey`.
    ///
    /// - Throws: ``KEKProviderError``, mapped from the transport failure or KMS's error answer.
    func call(target: String, body: [UInt8]) throws(KEKProviderError) -> [UInt8] {
        let credentials: AWSCredentials
        do throws(AWSCredentials.Failure) {
            credentials = try AWSCredentials.resolve(profile: profile, environment: environment)
        } catch {
            throw .misconfigured(provider: id, reason: error.description)
        }
        let request = try signedRequest(target: target, body: body, credentials: credentials)
        var response: HTTPClient.Response
        do {
            let accumulator = ResponseAccumulator(request: request, maxBodySize: Self.maxResponseByteCount)
            let deadline = NIODeadline.now() + TimeAmount(callTimeout)
            response = try client.execute(request: request, delegate: accumulator, deadline: deadline).futureResult
                .wait()
        } catch {
            throw transportFailure(error)
        }
        var received = response.body.take()
        let answer = received.map { Array($0.readableBytesView) } ?? []
        received?.withUnsafeMutableReadableBytes { SecretBytes.zero($0) }
        guard response.status == .ok else {
            throw serviceFailure(status: response.status, body: answer, operation: target, credentials: credentials)
        }
        return answer
    }

    private func signedRequest(target: String, body: [UInt8], credentials: AWSCredentials)
        throws(KEKProviderError) -> HTTPClient.Request
    {
        let date = now()
        var headers: [(name: String, value: String)] = [
            ("Host", hostHeader), ("X-Amz-Date", AWSSigV4.amzDate(date)), ("X-Amz-Target", target),
            ("Content-Type", "application/x-amz-json-1.1"),
        ]
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        let signature = AWSSigV4.sign(
            .init(method: "POST", headers: headers, body: body), credentials: credentials,
            date: date, region: region, service: "kms")
        var httpHeaders = HTTPHeaders(headers.map { ($0.name, $0.value) })
        httpHeaders.add(name: "Authorization", value: signature.authorization)
        do {
            return try HTTPClient.Request(
                url: endpoint + "/", method: .POST, headers: httpHeaders,
                body: .byteBuffer(ByteBuffer(bytes: body)))
        } catch {
            throw .misconfigured(provider: id, reason: "the endpoint \(endpoint) is not a URL the HTTP client takes")
        }
    }

    /// `{"KeyId":…,"<blobName>":"<base64>","EncryptionContext":{…}}`, built in one allocation the caller zeroes.
    private func requestBody(blobName: String, base64: [UInt8]) -> [UInt8] {
        var writer = AWSKMSWire.ObjectWriter(
            capacity: 96 + 6 * keyID.utf8.count + base64.count
                + encryptionContext.reduce(0) { $0 + 6 * ($1.key.utf8.count + $1.value.utf8.count) + 6 })
        writer.member("KeyId", string: keyID)
        writer.member(blobName, rawString: base64)
        if !encryptionContext.isEmpty {
            writer.member("EncryptionContext", stringMap: encryptionContext)
        }
        return writer.finish()
    }

    private func transportFailure(_ error: any Error) -> KEKProviderError {
        if let failure = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .connectTimeout].contains(failure) {
                return .unavailable(provider: id, reason: "\(endpoint) did not answer within \(callTimeout)")
            }
            return .unavailable(provider: id, reason: "the request to \(endpoint) failed: \(failure.shortDescription)")
        }
        if error is ResponseAccumulator.ResponseTooBigError {
            return .rejected(
                provider: id, reason: "\(endpoint) answered with more than \(Self.maxResponseByteCount) bytes")
        }
        // Connection errors (IOError, NIOConnectionError) describe sockets and addresses only.
        let detail = error is IOError || error is NIOConnectionError ? "\(error)" : "\(type(of: error))"
        return .unavailable(provider: id, reason: "cannot reach \(endpoint): \(detail)")
    }

    private func serviceFailure(
        status: HTTPResponseStatus, body: [UInt8], operation: String,
        credentials: AWSCredentials
    ) -> KEKProviderError {
        let type = AWSKMSWire.errorType(in: body)
        var message = AWSKMSWire.errorMessage(in: body, limit: Self.maxMessageCharacterCount)
        if let token = credentials.sessionToken, message?.contains(token) == true { message = nil }
        var reason = "\(operation.replacingOccurrences(of: "TrentService.", with: "")) answered HTTP \(status.code)"
        if let type { reason += " \(type)" }
        if let message { reason += ": \(message)" }
        if let type, Self.mismatchErrorTypes.contains(type) { return .mismatch(provider: id) }
        if status.code >= 500 || status.code == 429 || type.map(Self.transientErrorTypes.contains) == true {
            return .unavailable(provider: id, reason: reason)
        }
        return .rejected(provider: id, reason: reason)
    }

    private static func region(uri: KEKURI, environment: [String: String]) throws(KEKURIError) -> String {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID names its region.
        let arnParts = uri.body.split(separator: ":", omittingEmptySubsequences: false)
        let fromARN = arnParts.count > 3 && arnParts[0] == "arn" ? String(arnParts[3]) : nil
        let candidates = [uri.option("region"), environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"], fromARN]
        guard let region = candidates.compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw .missingOption(scheme: scheme, name: "region")
        }
        let allowed = region.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        guard allowed, region.utf8.count <= 64 else {
            throw .invalidOption(scheme: scheme, name: "region", reason: "a region is lower-case letters, digits and -")
        }
        return region
    }

    /// The normalised endpoint (`scheme://host[:port]`) and the `Host` header that goes with it.
    private static func endpoint(_ option: String?, region: String) throws(KEKURIError) -> (String, String) {
        guard let option else {
            let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            return ("https://kms.\(region).\(domain)", "kms.\(region).\(domain)")
        }
        let invalid = KEKURIError.invalidOption(
            scheme: scheme, name: "endpoint", reason: "it must be an https:// (or http://) URL with a host and no path")
        guard let url = URLComponents(string: option), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = url.host, !host.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil, url.fragment == nil, url.user == nil
        else { throw invalid }
        let defaultPort = scheme == "https" ? 443 : 80
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let authority = url.port.map { $0 == defaultPort ? hostPart : "\(hostPart):\($0)" } ?? hostPart
        return ("\(scheme)://\(authority)", authority)
    }
}

/// The JSON and base64 pieces of the KMS wire format, written for key material: every function fills arrays
/// the caller owns (and can zero) instead of Foundation's strings and `Data`.
enum AWSKMSWire {
    /// Writes one flat JSON object into a buffer reserved up front, so no reallocation leaves a copy behind.
    struct ObjectWriter {
        private var bytes: [UInt8]
        private var first = true

        init(capacity: Int) {
            bytes = []
            bytes.reserveCapacity(capacity)
            bytes.append(UInt8(ascii: "{"))
        }

        mutating func member(_ name: String, string: String) {
            key(name)
            quoted(Array(string.utf8))
        }

        /// A string member whose value needs no escaping (base64).
        mutating func member(_ name: String, rawString: [UInt8]) {
            key(name)
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: rawString)
            bytes.append(UInt8(ascii: "\""))
        }

        mutating func member(_ name: String, stringMap: [String: String]) {
            key(name)
            var inner = ObjectWriter(capacity: 0)
            for name in stringMap.keys.sorted() { inner.member(name, string: stringMap[name]!) }
            bytes.append(contentsOf: inner.finish())
        }

        mutating func finish() -> [UInt8] {
            bytes.append(UInt8(ascii: "}"))
            return bytes
        }

        private mutating func key(_ name: String) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            quoted(Array(name.utf8))
            bytes.append(UInt8(ascii: ":"))
        }

        private mutating func quoted(_ text: [UInt8]) {
            let hexDigits = Array("0123456789abcdef".utf8)
            bytes.append(UInt8(ascii: "\""))
            for byte in text {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                case 0..<0x20:
                    bytes.append(
                        contentsOf: Array("\\u00".utf8) + [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
                default:
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    /// The unescaped bytes of the top-level string member `name` of a JSON object; nil when it is absent, not a
    /// string, or the text is not a JSON object.
    static func stringMember(_ name: String, in json: [UInt8]) -> [UInt8]? {
        var scanner = JSONScanner(bytes: json)
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        let wanted = Array(name.utf8)
        if scanner.consume(UInt8(ascii: "}")) { return nil }
        while true {
            guard var key = scanner.string(), scanner.consume(UInt8(ascii: ":")) else { return nil }
            let isWanted = key == wanted
            key.withUnsafeMutableBytes { SecretBytes.zero($0) }
            if isWanted { return scanner.peek() == UInt8(ascii: "\"") ? scanner.string() : nil }
            guard scanner.skipValue() else { return nil }
            if scanner.consume(UInt8(ascii: "}")) { return nil }
            guard scanner.consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// KMS's error type without its namespace (`com.amazonaws.kms#X`) or documentation suffix (`X:http://…`);
    /// also the `<Code>` of an XML error answer.
    static func errorType(in body: [UInt8]) -> String? {
        let fromJSON = stringMember("__type", in: body).map { String(decoding: $0, as: UTF8.self) }
        guard let raw = fromJSON ?? xmlElement("Code", in: body) else { return nil }
        var type = Substring(raw)
        if let hash = type.lastIndex(of: "#") { type = type[type.index(after: hash)...] }
        if let colon = type.firstIndex(of: ":") { type = type[..<colon] }
        let kept = type.unicodeScalars.filter { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
        }
        let cleaned = String(String.UnicodeScalarView(kept.prefix(80)))
        return cleaned.isEmpty ? nil : cleaned
    }

    /// KMS's error message (`message`, `Message` or XML `<Message>`): its first line only, printable characters,
    /// at most `limit` characters.
    static func errorMessage(in body: [UInt8], limit: Int) -> String? {
        let raw =
            (stringMember("message", in: body) ?? stringMember("Message", in: body))
            .map { String(decoding: $0, as: UTF8.self) } ?? xmlElement("Message", in: body)
        guard let firstLine = raw?.split(whereSeparator: \.isNewline).first else { return nil }
        let printable = firstLine.unicodeScalars.filter { $0.properties.generalCategory != .control }
        let text = String(String.UnicodeScalarView(printable)).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : String(text.prefix(limit))
    }

    private static func xmlElement(_ name: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let open = text.range(of: "<\(name)>"),
            let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// Standard base64 with padding.
    static func base64Encoded(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group = UInt32(bytes[index]) << 16
            if count > 1 { group |= UInt32(bytes[index + 1]) << 8 }
            if count > 2 { group |= UInt32(bytes[index + 2]) }
            for position in 0..<4 {
                let sextet = Int(group >> UInt32(18 - 6 * position)) & 0x3F
                output.append(position <= count ? alphabet[sextet] : UInt8(ascii: "="))
            }
            index += 3
        }
        return output
    }

    /// Decodes standard base64 (padding required, no whitespace); nil for anything else.
    static func base64Decoded(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var padding = 0
        if text.last == UInt8(ascii: "=") { padding = text.dropLast().last == UInt8(ascii: "=") ? 2 : 1 }
        var output: [UInt8] = []
        output.reserveCapacity(text.count / 4 * 3)
        var index = 0
        while index < text.count {
            let groupPadding = index + 4 == text.count ? padding : 0
            var group: UInt32 = 0
            for offset in 0..<4 {
                guard let value = offset >= 4 - groupPadding ? 0 : sextet(text[index + offset]) else {
                    output.withUnsafeMutableBytes { SecretBytes.zero($0) }
                    return nil
                }
                group = group << 6 | UInt32(value)
            }
            for shift in 0..<(3 - groupPadding) {
                output.append(UInt8(truncatingIfNeeded: group >> UInt32(16 - 8 * shift)))
            }
            index += 4
        }
        return output
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    /// Reads JSON tokens from a byte array; only what ``stringMember(_:in:)`` needs.
    private struct JSONScanner {
        /// Nesting deeper than this is refused (a KMS answer is one or two levels deep).
        static let maxDepth = 32
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func peek() -> UInt8? {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            return index < bytes.count ? bytes[index] : nil
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            index += 1
            return true
        }

        /// A string token, unescaped into a fresh array.
        mutating func string() -> [UInt8]? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count - index)  // no reallocation leaves a copy of a secret behind
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return output
                case UInt8(ascii: "\\"):
                    guard index < bytes.count, let scalar = escape() else { return nil }
                    output.append(contentsOf: Array(String(Character(scalar)).utf8))
                case 0..<0x20: return nil
                default: output.append(byte)
                }
            }
            return nil
        }

        /// Skips one value of any kind.
        mutating func skipValue() -> Bool {
            guard let first = peek() else { return false }
            if first == UInt8(ascii: "\"") { return string() != nil }
            guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
                while index < bytes.count, !Array(",}] \t\r\n".utf8).contains(bytes[index]) { index += 1 }
                return true
            }
            var depth = 0
            while let byte = peek() {
                switch byte {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    guard depth <= Self.maxDepth else { return false }
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                default: break
                }
                index += 1
                if depth == 0 { return true }
            }
            return false
        }

        private mutating func escape() -> Unicode.Scalar? {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(byte)
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                guard let high = hex4() else { return nil }
                guard (0xD800...0xDBFF).contains(high) else { return Unicode.Scalar(high) }
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { return nil }
                index += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            default: return nil
            }
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count,
                let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else { return nil }
            index += 4
            return value
        }
    }
}
