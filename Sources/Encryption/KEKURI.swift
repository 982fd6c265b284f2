/// A parsed `--kek URI` (DESIGN §3.4): `scheme:body?query`.
///
/// The body is what the scheme names (a path, a key ARN, an RFC 7512 attribute list, a socket URI); the query
/// holds the provider's options (`region=…&endpoint=…`, `module-path=…&pin-source=…`). Neither is ever a
/// secret: credentials, PINs and key bytes come from the environment, files or the provider itself. The
/// kek id of a provider other than `file:`/`env:` is ``withoutQuery``.
public struct KEKURI: Hashable, Sendable, CustomStringConvertible {
    /// The scheme, lower-cased (`file`, `env`, `aws-kms`, `pkcs11`, `kms-plugin`, `exec`).
    public let scheme: String
    /// Everything between `scheme:` and the first `?`, as written.
    public let body: String
    /// The query's `name=value` items in order, percent-decoded; a name without `=` has an empty value.
    public let query: [(name: String, value: String)]

    /// The schemes a node knows.
    public static let schemes: Set<String> = ["file", "env", "aws-kms", "pkcs11", "kms-plugin", "exec"]

    /// Parses `text`.
    ///
    /// - Throws: ``KEKURIError`` for a missing or unknown scheme, an empty body, or a malformed query.
    public init(_ text: String) throws(KEKURIError) {
        guard let colon = text.firstIndex(of: ":") else { throw .missingScheme(text) }
        let scheme = text[..<colon].lowercased()
        guard Self.schemes.contains(scheme) else { throw .unknownScheme(scheme) }
        let rest = text[text.index(after: colon)...]
        let body: Substring
        var items: [(name: String, value: String)] = []
        if let question = rest.firstIndex(of: "?") {
            body = rest[..<question]
            for item in rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.percentDecoded(parts[0]), !name.isEmpty,
                      let value = parts.count == 2 ? Self.percentDecoded(parts[1]) : ""
                else { throw .malformedQuery(scheme: scheme) }
                items.append((name, value))
            }
        } else {
            body = rest
        }
        guard !body.isEmpty else { throw .emptyBody(scheme: scheme) }
        self.scheme = scheme
        self.body = String(body)
        self.query = items
    }

    /// The last value given for `name` in the query, if any.
    public func option(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }

    /// The names in the query that are not in `known` (a provider refuses options it does not understand,
    /// so a typo is not silently ignored).
    public func unknownOptions(known: Set<String>) -> [String] {
        query.map(\.name).filter { !known.contains($0) }
    }

    /// `scheme:body`: the kek id of providers other than `file:` and `env:`, and what logs and errors show.
    public var withoutQuery: String { "\(scheme):\(body)" }

    public var description: String { withoutQuery }

    public static func == (left: KEKURI, right: KEKURI) -> Bool {
        left.scheme == right.scheme && left.body == right.body
            && left.query.map(\.name) == right.query.map(\.name) && left.query.map(\.value) == right.query.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(scheme)
        hasher.combine(body)
        for item in query {
            hasher.combine(item.name)
            hasher.combine(item.value)
        }
    }

    /// `%XX` decoded (and `+` kept as is); nil for a truncated or non-hex escape or invalid UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        percentDecodedBytes(text).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// `%XX` decoded bytes (and `+` kept as is); nil for a truncated or non-hex escape. For values that are
    /// bytes rather than text, such as an RFC 7512 `id`.
    public static func percentDecodedBytes(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
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
}

/// Why a `--kek` value is not a KEK URI. Descriptions name the flag and never repeat more than the scheme,
/// since a mistyped value could be a secret pasted in the wrong place.
public enum KEKURIError: Error, Hashable, Sendable, CustomStringConvertible {
    case missingScheme(String)
    case unknownScheme(String)
    case emptyBody(scheme: String)
    case malformedQuery(scheme: String)
    /// A provider option the scheme does not know (names only).
    case unknownOptions(scheme: String, names: [String])
    /// A required option is missing.
    case missingOption(scheme: String, name: String)
    /// An option's value is invalid; `reason` never repeats the value.
    case invalidOption(scheme: String, name: String, reason: String)
    /// The same KEK is configured twice.
    case duplicate(String)

    public var description: String {
        let schemes = KEKURI.schemes.sorted().map { "\($0):" }.joined(separator: ", ")
        switch self {
        case .missingScheme:
            return "--kek needs a URI with a scheme (\(schemes)); for a key file write file:PATH or use --kek-file"
        case .unknownScheme(let scheme):
            return "--kek scheme '\(scheme):' is not supported; use one of \(schemes)"
        case .emptyBody(let scheme):
            return "--kek \(scheme): names nothing; see docs/encryption.md for the form of a \(scheme): URI"
        case .malformedQuery(let scheme):
            return "--kek \(scheme): has a malformed query (name=value items joined by &, %XX escapes)"
        case .unknownOptions(let scheme, let names):
            return "--kek \(scheme): does not know the option(s) \(names.joined(separator: ", "))"
        case .missingOption(let scheme, let name):
            return "--kek \(scheme): needs the option \(name)="
        case .invalidOption(let scheme, let name, let reason):
            return "--kek \(scheme): option \(name) is invalid: \(reason)"
        case .duplicate(let kek):
            return "KEK \(kek) is configured twice (--kek-file counts as --kek file:PATH)"
        }
    }
}
