#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Sidecar {
    /// Parses and validates the bytes of a `keys.json`.
    ///
    /// Rejects malformed JSON, an unknown `version`, key ids that are not canonical non-zero decimal uint32,
    /// unknown purposes, wrapped bytes that are not canonical base64, `local_epoch` above 0xFFFF and active ids
    /// that name no key of their purpose. Unknown extra fields are ignored.
    /// - Parameters:
    ///   - json: the file content.
    ///   - path: the file's path, for error messages.
    /// - Throws: ``SidecarError`` naming the first problem found; never the file's content.
    public init(json: [UInt8], path: String) throws(SidecarError) {
        let decoder = JSONDecoder()
        let version: Int
        do {
            version = try decoder.decode(VersionField.self, from: Data(json)).version
        } catch {
            throw SidecarError(.malformedJSON(at: Self.location(of: error, default: "version")), path: path)
        }
        guard version == Self.formatVersion else { throw SidecarError(.unsupportedVersion(version), path: path) }
        let file: SidecarFileJSON
        do {
            file = try decoder.decode(SidecarFileJSON.self, from: Data(json))
        } catch {
            throw SidecarError(.malformedJSON(at: Self.location(of: error, default: "(document)")), path: path)
        }
        self = try Self.validated(file, path: path)
    }

    /// The `keys.json` bytes of this content: pretty-printed, keys sorted, so equal content gives equal bytes.
    ///
    /// The result is parsed again before it is returned; content that its own parser would reject is a broken
    /// invariant of the caller and traps.
    public func encodedJSON() -> [UInt8] {
        var keysJSON: [String: SidecarFileJSON.KeyJSON] = [:]
        for (id, key) in keys {
            let wraps = key.wrapped.wraps.map { wrap in
                SidecarFileJSON.WrapJSON(kek: wrap.kekID, wrapped: Data(wrap.bytes).base64EncodedString())
            }
            keysJSON[String(id)] = SidecarFileJSON.KeyJSON(
                purpose: key.purpose.rawValue, wrapped: Data(key.wrapped.bytes).base64EncodedString(),
                created: key.created, localEpoch: UInt64(key.localEpoch), wraps: wraps.isEmpty ? nil : wraps)
        }
        var activeJSON: [String: UInt64] = [:]
        for (purpose, id) in activeKeyIDs { activeJSON[purpose.rawValue] = UInt64(id) }
        let file = SidecarFileJSON(
            version: Self.formatVersion, raftAppliedIndex: raftAppliedIndex,
            storageEnvelopeActive: storageEnvelopeActive, raftEnvelopeCutoverIndex: raftEnvelopeCutoverIndex,
            active: activeJSON, keys: keysJSON, bootstrapSHA256: bootstrapDigest.map { PayloadDigest.hex($0) },
            rotationPolicy: rotationPolicy.map {
                SidecarFileJSON.PolicyJSON(rotateAfterSeconds: $0.rotateAfterSeconds, rotateAfterSeals: $0.rotateAfterSeals,
                                           rewriteAfterRotate: $0.rewriteAfterRotate ? true : nil)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do { bytes = Array(try encoder.encode(file)) } catch {
            preconditionFailure("encoding plain strings and integers as JSON cannot fail")
        }
        let reparsed = try? Sidecar(json: bytes, path: "keys.json")
        precondition(reparsed == self, "sidecar content must survive its own JSON round trip; validate it first")
        return bytes
    }

    private static func validated(_ file: SidecarFileJSON, path: String) throws(SidecarError) -> Sidecar {
        var keys: [KeyID: Key] = [:]
        for (idText, keyJSON) in file.keys {
            guard let id = KeyID(idText), id != 0, String(id) == idText else {
                throw SidecarError(.invalidKeyID, path: path)
            }
            guard let purpose = KeyPurpose(rawValue: keyJSON.purpose) else {
                throw SidecarError(.unknownPurpose, path: path)
            }
            guard let wrapped = Data(base64Encoded: keyJSON.wrapped), !wrapped.isEmpty,
                wrapped.base64EncodedString() == keyJSON.wrapped
            else { throw SidecarError(.invalidWrappedEncoding(id), path: path) }
            guard let epoch = UInt16(exactly: keyJSON.localEpoch) else {
                throw SidecarError(.localEpochOutOfRange(id, keyJSON.localEpoch), path: path)
            }
            keys[id] = Key(
                purpose: purpose, wrapped: try validatedWraps(keyJSON.wraps, primary: Array(wrapped), id: id, path: path),
                created: keyJSON.created, localEpoch: epoch)
        }
        var active: [KeyPurpose: KeyID] = [:]
        for (purposeText, idValue) in file.active {
            guard let purpose = KeyPurpose(rawValue: purposeText) else {
                throw SidecarError(.unknownPurpose, path: path)
            }
            guard let id = KeyID(exactly: idValue), id != 0 else {
                throw SidecarError(.invalidActiveKeyID(purpose), path: path)
            }
            active[purpose] = id
        }
        var digest: [UInt8]?
        if let text = file.bootstrapSHA256 {
            guard let bytes = parseHex(text), bytes.count == bootstrapDigestByteCount else {
                throw SidecarError(.invalidBootstrapDigest, path: path)
            }
            digest = bytes
        }
        let sidecar = Sidecar(
            raftAppliedIndex: file.raftAppliedIndex, storageEnvelopeActive: file.storageEnvelopeActive,
            raftEnvelopeCutoverIndex: file.raftEnvelopeCutoverIndex, activeKeyIDs: active, keys: keys,
            bootstrapDigest: digest, rotationPolicy: file.rotationPolicy.map {
                RotationPolicy(rotateAfterSeconds: $0.rotateAfterSeconds, rotateAfterSeals: $0.rotateAfterSeals,
                               rewriteAfterRotate: $0.rewriteAfterRotate ?? false)
            })
        try sidecar.validate(path: path)
        return sidecar
    }

    /// Where in the document a decoding error happened, with field names kept and any other text replaced, so
    /// no value of the file reaches a message.
    private static func location(of error: any Error, default fallback: String) -> String {
        var path: [any CodingKey] = []
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: path = context.codingPath + [key]
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            path = context.codingPath
        default: break
        }
        guard !path.isEmpty else { return fallback }
        let known = Set(SidecarFileJSON.fieldNames)
        return path.map { key in
            let name = key.stringValue
            if known.contains(name) || (name.count <= 10 && name.allSatisfy(\.isASCIIDigit)) { return name }
            return "?"
        }.joined(separator: ".")
    }

    /// The key's wraps: the primary's bytes alone without a `wraps` list; with one, its items (strict base64,
    /// non-empty distinct kek ids, at most ``EntryLimits/maxKEKWraps``), the first of which must equal `wrapped`.
    private static func validatedWraps(_ items: [SidecarFileJSON.WrapJSON]?, primary: [UInt8], id: KeyID,
                                       path: String) throws(SidecarError) -> WrappedDEK
    {
        guard let items else { return WrappedDEK(primary) }
        guard !items.isEmpty, items.count <= EntryLimits.maxKEKWraps,
              Set(items.map(\.kek)).count == items.count, items.allSatisfy({ !$0.kek.isEmpty })
        else { throw SidecarError(.invalidWrappedEncoding(id), path: path) }
        var wraps: [KEKWrap] = []
        for item in items {
            guard let bytes = Data(base64Encoded: item.wrapped), !bytes.isEmpty,
                  bytes.base64EncodedString() == item.wrapped
            else { throw SidecarError(.invalidWrappedEncoding(id), path: path) }
            wraps.append(KEKWrap(kekID: item.kek, bytes: Array(bytes)))
        }
        guard wraps[0].bytes == primary else { throw SidecarError(.invalidWrappedEncoding(id), path: path) }
        return WrappedDEK(wraps: wraps)
    }

    private static func parseHex(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: characters.count, by: 2) {
            guard let high = hexValue(characters[index]), let low = hexValue(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// The `version` field alone, read first so a future format is reported as such rather than as malformed.
private struct VersionField: Decodable {
    let version: Int
}

/// The JSON shape of `keys.json`, field names as DESIGN §3.5 fixes them.
private struct SidecarFileJSON: Codable {
    struct KeyJSON: Codable {
        var purpose: String
        var wrapped: String
        var created: String
        var localEpoch: UInt64
        var wraps: [WrapJSON]?

        enum CodingKeys: String, CodingKey {
            case purpose, wrapped, created, wraps
            case localEpoch = "local_epoch"
        }
    }

    /// One KEK's wrap of a key (`wraps` items, DESIGN §3.5).
    struct WrapJSON: Codable {
        var kek: String
        var wrapped: String
    }

    var version: Int
    var raftAppliedIndex: UInt64
    var storageEnvelopeActive: Bool
    var raftEnvelopeCutoverIndex: UInt64?
    var active: [String: UInt64]
    var keys: [String: KeyJSON]
    var bootstrapSHA256: String?
    var rotationPolicy: PolicyJSON?

    /// `rotation_policy` (an extension of DESIGN §3.5, docs/formats.md §3).
    struct PolicyJSON: Codable {
        var rotateAfterSeconds: UInt64
        var rotateAfterSeals: UInt64
        /// Written only when true, so a policy without it keeps the bytes it had before the field existed.
        var rewriteAfterRotate: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rotateAfterSeconds = "rotate_after_seconds"
            case rotateAfterSeals = "rotate_after_seals"
            case rewriteAfterRotate = "rewrite_after_rotate"
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, active, keys
        case raftAppliedIndex = "raft_applied_index"
        case storageEnvelopeActive = "storage_envelope_active"
        case raftEnvelopeCutoverIndex = "raft_envelope_cutover_index"
        case bootstrapSHA256 = "bootstrap_sha256"
        case rotationPolicy = "rotation_policy"
    }

    static let fieldNames = CodingKeys.allCases.map(\.rawValue) + KeyJSON.CodingKeys.allFieldNames
        + PolicyJSON.CodingKeys.allCases.map(\.rawValue)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(raftAppliedIndex, forKey: .raftAppliedIndex)
        try container.encode(storageEnvelopeActive, forKey: .storageEnvelopeActive)
        // Always written, as null before cut-over, so a reader sees the field exists.
        try container.encode(raftEnvelopeCutoverIndex, forKey: .raftEnvelopeCutoverIndex)
        try container.encode(active, forKey: .active)
        try container.encode(keys, forKey: .keys)
        try container.encodeIfPresent(bootstrapSHA256, forKey: .bootstrapSHA256)
        try container.encodeIfPresent(rotationPolicy, forKey: .rotationPolicy)
    }
}

extension SidecarFileJSON.KeyJSON.CodingKeys {
    static let allFieldNames = ["purpose", "wrapped", "created", "local_epoch", "wraps", "kek"]
}
