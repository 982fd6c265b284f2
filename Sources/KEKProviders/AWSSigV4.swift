import CLibCrypto
import Encryption
import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for one HTTP request: canonical request, string to sign,
/// derived signing key and `Authorization` header.
///
/// Pure and deterministic: the time and the credentials are parameters, so AWS's published test suite checks
/// every step. The request is signed exactly as given: the caller adds `Host`, `X-Amz-Date` and (for temporary
/// credentials) `X-Amz-Security-Token` to its headers first, and every header given is signed. Paths are
/// normalised (empty, `.` and `..` segments) and encoded once, as for every service but S3. HMAC-SHA-256 and
/// SHA-256 come from the system libcrypto; the intermediate signing keys are zeroed after use.
enum AWSSigV4 {
    /// The algorithm named in the string to sign and the `Authorization` header.
    static let algorithm = "AWS4-HMAC-SHA256"

    /// A request to sign.
    struct Request: Sendable {
        /// `GET`, `POST`, …
        var method: String
        /// The path as the server will decode it (not percent-encoded), starting with `/`.
        var path: String
        /// The query items, not percent-encoded.
        var query: [(name: String, value: String)]
        /// The headers in the order sent; a name may repeat.
        var headers: [(name: String, value: String)]
        /// The body.
        var body: [UInt8]

        init(
            method: String, path: String = "/", query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)], body: [UInt8] = []
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// The intermediate texts and the header of one signature. The description hides the signature.
    struct Signature: Sendable, CustomStringConvertible {
        let canonicalRequest: String
        let stringToSign: String
        /// `host;x-amz-date;…`
        let signedHeaders: String
        /// The value of the `Authorization` header.
        let authorization: String

        var description: String { "AWSSigV4.Signature(signed headers: \(signedHeaders), <redacted>)" }
    }

    /// Signs `request`.
    ///
    /// - Parameters:
    ///   - credentials: who signs; only the access key id and the secret key are used here (a session token
    ///     is signed as the caller's `X-Amz-Security-Token` header).
    ///   - date: the signing time; it must be the time written in the request's `X-Amz-Date` header.
    ///   - region: the region of the credential scope (`us-east-1`).
    ///   - service: the service of the credential scope (`kms`).
    static func sign(
        _ request: Request, credentials: AWSCredentials, date: Date, region: String,
        service: String
    ) -> Signature {
        let timestamp = amzDate(date)
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
        let (headerBlock, signedHeaders) = canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method,
            canonicalURI(request.path),
            canonicalQuery(request.query),
            headerBlock,
            signedHeaders,
            hex(sha256(request.body)),
        ].joined(separator: "\n")
        let stringToSign = [algorithm, timestamp, scope, hex(sha256(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = signingKey(
            credentials: credentials, day: String(timestamp.prefix(8)), region: region,
            service: service)
        defer { key.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        let signature = hex(hmacSHA256(key: key, Array(stringToSign.utf8)))
        let authorization =
            "\(algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign,
            signedHeaders: signedHeaders, authorization: authorization)
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC: the form of `X-Amz-Date` and of the string to sign.
    static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!  // UTC always exists
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func digits(_ value: Int?, _ count: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, count - text.count)) + text
        }
        return digits(parts.year, 4) + digits(parts.month, 2) + digits(parts.day, 2) + "T" + digits(parts.hour, 2)
            + digits(parts.minute, 2) + digits(parts.second, 2) + "Z"
    }

    /// The path with empty, `.` and `..` segments resolved, each segment URI-encoded; a trailing `/` is kept.
    static func canonicalURI(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        guard !segments.isEmpty else { return "/" }
        let encoded = "/" + segments.map { uriEncode($0) }.joined(separator: "/")
        return path.hasSuffix("/") ? encoded + "/" : encoded
    }

    /// The query items encoded and sorted by name, then value (byte order of the encoded forms).
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (name: uriEncode($0.name), value: uriEncode($0.value)) }
            .sorted {
                $0.name == $1.name
                    ? $0.value.utf8.lexicographicallyPrecedes($1.value.utf8)
                    : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
            }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    /// The canonical header block (one `name:value\n` per lower-cased name, sorted, repeated names' values
    /// joined by commas in the order sent) and the signed-headers list.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signed: String) {
        var values: [String: [String]] = [:]
        for header in headers {
            values[header.name.lowercased(), default: []].append(trimmedValue(header.value))
        }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, with upper-case hex.
    static func uriEncode<Text: StringProtocol>(_ text: Text) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Lower-case hex of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// SHA-256 of `bytes` through libcrypto.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBytes { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(status == 1 && length == 32, "libcrypto's SHA-256 cannot fail on an in-memory buffer")
        return digest
    }

    /// HMAC-SHA-256 of `bytes` under `key` through libcrypto.
    static func hmacSHA256(key: UnsafeRawBufferPointer, _ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let produced = bytes.withUnsafeBytes { data in
            digest.withUnsafeMutableBytes { output in
                HMAC(
                    EVP_sha256(), key.baseAddress, Int32(key.count),
                    data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
            }
        }
        precondition(produced != nil && length == 32, "libcrypto's HMAC-SHA-256 cannot fail on in-memory buffers")
        return digest
    }

    static func hmacSHA256(key: [UInt8], _ bytes: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { hmacSHA256(key: $0, bytes) }
    }

    /// The key derived from the secret for one day, region and service: `kSigning` of the SigV4 specification.
    static func signingKey(credentials: AWSCredentials, day: String, region: String, service: String) -> [UInt8] {
        var secretKey: [UInt8] = []
        secretKey.reserveCapacity(4 + credentials.secretAccessKey.count)  // no reallocation leaves a copy behind
        secretKey.append(contentsOf: "AWS4".utf8)
        credentials.secretAccessKey.withUnsafeBytes { secretKey.append(contentsOf: $0) }
        var dateKey = hmacSHA256(key: secretKey, Array(day.utf8))
        secretKey.withUnsafeMutableBytes { SecretBytes.zero($0) }
        var regionKey = hmacSHA256(key: dateKey, Array(region.utf8))
        dateKey.withUnsafeMutableBytes { SecretBytes.zero($0) }
        var serviceKey = hmacSHA256(key: regionKey, Array(service.utf8))
        regionKey.withUnsafeMutableBytes { SecretBytes.zero($0) }
        defer { serviceKey.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        return hmacSHA256(key: serviceKey, Array("aws4_request".utf8))
    }

    /// A header value without surrounding whitespace and with each run of spaces made one space.
    private static func trimmedValue(_ value: String) -> String {
        var output: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace { output.append(UInt8(ascii: " ")) }
            pendingSpace = false
            output.append(byte)
        }
        return String(decoding: output, as: UTF8.self)
    }
}
