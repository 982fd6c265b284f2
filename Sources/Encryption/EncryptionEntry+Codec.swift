extension EncryptionEntry {
    /// Decodes an FSM payload whose first byte is 0x03, 0x04 or 0x05.
    ///
    /// Every length and count is checked before use, counts are bounded by ``EntryLimits``, and trailing bytes
    /// are rejected, so any byte string either decodes to exactly one entry or throws.
    /// - Throws: ``EntryCodecError`` naming the first field that is wrong.
    public static func decode(_ payload: [UInt8]) throws(EntryCodecError) -> EncryptionEntry {
        var reader = WireReader(payload)
        let opcode = try reader.u8("opcode")
        let entry: EncryptionEntry
        switch opcode {
        case Opcode.writerRegistration:
            try readVersion(&reader, allowingWraps: false)
            entry = .writerRegistration(try readRegistrations(&reader))
        case Opcode.bootstrap:
            let version = try readVersion(&reader, allowingWraps: true)
            entry = .bootstrap(try readBootstrap(&reader, version: version))
        case Opcode.keyManagement:
            entry = try readKeyManagement(&reader)
        default:
            throw .unknownOpcode(opcode)
        }
        try reader.finish()
        return entry
    }

    /// The payload bytes of this entry, opcode first.
    ///
    /// The result is decoded again before it is returned, so an entry that its own decoder would reject (zero
    /// ids, a wrong purpose, a count above its limit) is never proposed.
    /// - Throws: ``EntryCodecError`` when the entry breaks a rule of `docs/formats.md`.
    public func encoded() throws(EntryCodecError) -> [UInt8] {
        var writer = WireWriter()
        let version = wrappedDEKs.contains { !$0.wraps.isEmpty }
            ? EntryLimits.multiKEKBodyVersion : EntryLimits.bodyVersion
        switch self {
        case .writerRegistration(let registrations):
            writer.u8(Opcode.writerRegistration)
            writer.u8(EntryLimits.bodyVersion)
            try Self.writeRegistrations(registrations, to: &writer)
        case .bootstrap(let body):
            guard body.storageKey.purpose == .storage, body.raftKey.purpose == .raft else {
                throw .bootstrapKeysInvalid
            }
            writer.u8(Opcode.bootstrap)
            writer.u8(version)
            writer.u64(body.createdUnixSeconds)
            try Self.writeNewDEK(body.storageKey, version: version, to: &writer)
            try Self.writeNewDEK(body.raftKey, version: version, to: &writer)
            try Self.writeRegistrations(body.registrations, to: &writer)
        case .rotateDEK(let body):
            Self.writeKeyManagementHeader(SubTag.rotateDEK, version: version, to: &writer)
            writer.u64(body.createdUnixSeconds)
            writer.u32(body.replacedKeyID)
            try Self.writeNewDEK(body.key, version: version, to: &writer)
            try Self.writeRegistrations(body.registrations, to: &writer)
        case .rewrapDEKs(let keys):
            Self.writeKeyManagementHeader(SubTag.rewrapDEKs, version: version, to: &writer)
            try Self.checkCount("rewrapped DEK count", keys.count, maximum: EntryLimits.maxRewrappedDEKsPerEntry)
            writer.count(keys.count)
            for key in keys {
                writer.u32(key.keyID)
                try Self.writeWrapped(key.wrapped, version: version, to: &writer)
            }
        case .retireDEK(let keyID):
            Self.writeKeyManagementHeader(SubTag.retireDEK, version: version, to: &writer)
            writer.u32(keyID)
        case .enableStorageEnvelope:
            Self.writeKeyManagementHeader(SubTag.enableStorageEnvelope, version: version, to: &writer)
        case .enableRaftEnvelope:
            Self.writeKeyManagementHeader(SubTag.enableRaftEnvelope, version: version, to: &writer)
        case .createIndexKey(let body):
            Self.writeKeyManagementHeader(SubTag.createIndexKey, version: version, to: &writer)
            writer.u64(body.createdUnixSeconds)
            try Self.writeNewDEK(body.key, version: version, to: &writer)
        case .setRotationPolicy(let policy):
            Self.writeKeyManagementHeader(SubTag.setRotationPolicy, version: version, to: &writer)
            writer.u64(policy.rotateAfterSeconds)
            writer.u64(policy.rotateAfterSeals)
            writer.u8(policy.rewriteAfterRotate ? 1 : 0)
        case .rewriteChunk(let chunk):
            Self.writeKeyManagementHeader(SubTag.rewriteChunk, version: version, to: &writer)
            writer.u32(chunk.targetKeyID)
            writer.u32(chunk.rowsPerSecond)
            writer.u32(chunk.examinedRows)
            writer.u8((chunk.start == nil ? 0 : 1) | (chunk.end == nil ? 0 : 2))
            for position in [chunk.start, chunk.end].compactMap({ $0 }) {
                writer.u32(UInt32(clamping: position.key.count))
                writer.raw(position.key)
                writer.u64(position.ts)
            }
        }
        let decoded = try Self.decode(writer.bytes)
        precondition(decoded == self, "an encoded encryption entry must decode to the entry it was made from")
        return writer.bytes
    }

    // MARK: - Decoding

    /// The body version: ``EntryLimits/bodyVersion``, or ``EntryLimits/multiKEKBodyVersion`` in an entry that
    /// carries wrapped DEKs (each then followed by its list of per-KEK wraps).
    @discardableResult
    private static func readVersion(_ reader: inout WireReader, allowingWraps: Bool) throws(EntryCodecError) -> UInt8 {
        let version = try reader.u8("body version")
        guard version == EntryLimits.bodyVersion || (allowingWraps && version == EntryLimits.multiKEKBodyVersion)
        else { throw .unsupportedVersion(version) }
        return version
    }

    private static func readKeyManagement(_ reader: inout WireReader) throws(EntryCodecError) -> EncryptionEntry {
        let subTag = try reader.u8("sub-tag")
        guard (SubTag.rotateDEK...SubTag.rewriteChunk).contains(subTag) else { throw .unknownSubTag(subTag) }
        let carriesKeys = [SubTag.rotateDEK, SubTag.rewrapDEKs, SubTag.createIndexKey].contains(subTag)
        let version = try readVersion(&reader, allowingWraps: carriesKeys)
        switch subTag {
        case SubTag.rotateDEK:
            let created = try readCreated(&reader)
            let replaced = try readKeyID(&reader, "replaced key id")
            let key = try readNewDEK(&reader, version: version)
            guard key.keyID != replaced else { throw .rotationReplacesItself(replaced) }
            guard key.purpose.seals else { throw .purposeNotAllowed(field: "rotated key", key.purpose) }
            let registrations = try readRegistrations(&reader)
            return .rotateDEK(
                RotateDEK(createdUnixSeconds: created, replacedKeyID: replaced, key: key, registrations: registrations))
        case SubTag.rewrapDEKs:
            return .rewrapDEKs(try readRewrappedDEKs(&reader, version: version))
        case SubTag.retireDEK:
            return .retireDEK(try readKeyID(&reader, "retired key id"))
        case SubTag.enableStorageEnvelope:
            return .enableStorageEnvelope
        case SubTag.enableRaftEnvelope:
            return .enableRaftEnvelope
        case SubTag.setRotationPolicy:
            return .setRotationPolicy(try readRotationPolicy(&reader))
        case SubTag.rewriteChunk:
            return .rewriteChunk(try readRewriteChunk(&reader))
        default:
            let created = try readCreated(&reader)
            let key = try readNewDEK(&reader, version: version)
            guard key.purpose == .index else { throw .purposeNotAllowed(field: "index key", key.purpose) }
            return .createIndexKey(CreateIndexKey(createdUnixSeconds: created, key: key))
        }
    }

    private static func readRotationPolicy(_ reader: inout WireReader) throws(EntryCodecError) -> RotationPolicy {
        let seconds = try reader.u64("rotate_after_seconds")
        guard seconds <= RotationPolicy.maximumRotateAfterSeconds else {
            throw .policyBoundOutOfRange(field: "rotate_after_seconds", seconds,
                                         maximum: RotationPolicy.maximumRotateAfterSeconds)
        }
        let seals = try reader.u64("rotate_after_seals")
        guard seals <= RotationPolicy.maximumRotateAfterSeals else {
            throw .policyBoundOutOfRange(field: "rotate_after_seals", seals,
                                         maximum: RotationPolicy.maximumRotateAfterSeals)
        }
        let flags = try reader.u8("policy flags")
        guard flags & ~1 == 0 else { throw .reservedBits(field: "policy flags", flags) }
        return RotationPolicy(rotateAfterSeconds: seconds, rotateAfterSeals: seals, rewriteAfterRotate: flags == 1)
    }

    private static func readRewriteChunk(_ reader: inout WireReader) throws(EntryCodecError) -> RewriteChunk {
        let target = try readKeyID(&reader, "rewrite target key id")
        let rate = try reader.u32("rows per second")
        guard rate > 0 else { throw .countOutOfRange(field: "rows per second", count: 0, minimum: 1, maximum: Int(UInt32.max)) }
        let examined = try reader.u32("examined rows")
        let bounds = try reader.u8("rewrite bounds")
        guard bounds & ~0b11 == 0 else { throw .reservedBits(field: "rewrite bounds", bounds) }
        func position(_ field: String) throws(EntryCodecError) -> RowPosition {
            let length = Int(try reader.u32("\(field) key length"))
            guard length <= EntryLimits.maxRowKeyBytes else {
                throw .countOutOfRange(field: "\(field) key length", count: length, minimum: 0,
                                       maximum: EntryLimits.maxRowKeyBytes)
            }
            let key = try reader.raw(length, "\(field) key")
            let ts = try reader.u64("\(field) ts")
            guard ts < 1 << 63 else { throw .timestampOutOfRange(field: "\(field) ts", ts) }
            return RowPosition(key: key, ts: ts)
        }
        let start = bounds & 1 != 0 ? try position("rewrite start") : nil
        let end = bounds & 2 != 0 ? try position("rewrite end") : nil
        if let start, let end, !(start < end) { throw .emptyRewriteRange }
        return RewriteChunk(targetKeyID: target, rowsPerSecond: rate, examinedRows: examined, start: start, end: end)
    }

    private static func readBootstrap(_ reader: inout WireReader, version: UInt8) throws(EntryCodecError) -> Bootstrap {
        let created = try readCreated(&reader)
        let first = try readNewDEK(&reader, version: version)
        let second = try readNewDEK(&reader, version: version)
        guard Set([first.purpose, second.purpose]) == [.storage, .raft], first.keyID != second.keyID else {
            throw .bootstrapKeysInvalid
        }
        let registrations = try readRegistrations(&reader)
        let (storage, raft) = first.purpose == .storage ? (first, second) : (second, first)
        return Bootstrap(createdUnixSeconds: created, storageKey: storage, raftKey: raft, registrations: registrations)
    }

    private static func readRewrappedDEKs(_ reader: inout WireReader, version: UInt8) throws(EntryCodecError)
        -> [RewrappedDEK]
    {
        let count = try reader.count("rewrapped DEK count", minimum: 1, maximum: EntryLimits.maxRewrappedDEKsPerEntry)
        var keys: [RewrappedDEK] = []
        var seen = Set<KeyID>()
        for _ in 0..<count {
            let keyID = try readKeyID(&reader, "rewrapped key id")
            guard seen.insert(keyID).inserted else { throw .duplicateKeyID(keyID) }
            keys.append(RewrappedDEK(keyID: keyID, wrapped: try readWrapped(&reader, version: version)))
        }
        return keys
    }

    private static func readRegistrations(_ reader: inout WireReader) throws(EntryCodecError) -> [WriterRegistration] {
        let count = try reader.count("registration count", minimum: 1, maximum: EntryLimits.maxRegistrationsPerEntry)
        var registrations: [WriterRegistration] = []
        registrations.reserveCapacity(count)
        for _ in 0..<count {
            let dekID = try readKeyID(&reader, "registration dek_id")
            let fullNodeID = try reader.u64("registration full_node_id")
            guard fullNodeID != 0 else { throw .zeroNodeID }
            let epoch = try reader.u16("registration local_epoch")
            registrations.append(WriterRegistration(dekID: dekID, fullNodeID: fullNodeID, localEpoch: epoch))
        }
        return registrations
    }

    private static func readNewDEK(_ reader: inout WireReader, version: UInt8) throws(EntryCodecError) -> NewDEK {
        let keyID = try readKeyID(&reader, "key_id")
        let purposeByte = try reader.u8("purpose")
        guard let purpose = KeyPurpose(wireValue: purposeByte) else { throw .unknownPurpose(purposeByte) }
        return NewDEK(keyID: keyID, purpose: purpose, wrapped: try readWrapped(&reader, version: version))
    }

    /// Version 1: one wrap (u16 length, bytes). Version 2: a u8 count of per-KEK wraps; 0 is followed by one
    /// unnamed wrap as in version 1, 1 to ``EntryLimits/maxKEKWraps`` by that many (kek id: u16 length, UTF-8;
    /// wrap: u16 length, bytes), primary first, each kek id once.
    private static func readWrapped(_ reader: inout WireReader, version: UInt8) throws(EntryCodecError)
        -> WrappedDEK
    {
        guard version == EntryLimits.multiKEKBodyVersion else { return WrappedDEK(try readWrapBytes(&reader)) }
        let count = Int(try reader.u8("KEK wrap count"))
        guard count <= EntryLimits.maxKEKWraps else {
            throw .countOutOfRange(field: "KEK wrap count", count: count, minimum: 0, maximum: EntryLimits.maxKEKWraps)
        }
        guard count > 0 else { return WrappedDEK(try readWrapBytes(&reader)) }
        var wraps: [KEKWrap] = []
        for _ in 0..<count {
            let length = Int(try reader.u16("kek id length"))
            guard length >= 1 && length <= EntryLimits.maxKEKIDBytes else { throw .kekIDLength(length) }
            guard let kekID = String(validating: try reader.raw(length, "kek id"), as: UTF8.self) else {
                throw .kekIDNotUTF8
            }
            guard !wraps.contains(where: { $0.kekID == kekID }) else { throw .duplicateKEKID }
            wraps.append(KEKWrap(kekID: kekID, bytes: try readWrapBytes(&reader)))
        }
        return WrappedDEK(wraps: wraps)
    }

    private static func readWrapBytes(_ reader: inout WireReader) throws(EntryCodecError) -> [UInt8] {
        let length = Int(try reader.u16("wrapped DEK length"))
        guard length >= 1 && length <= EntryLimits.maxWrappedDEKBytes else { throw .wrappedDEKLength(length) }
        return try reader.raw(length, "wrapped DEK")
    }

    private static func readKeyID(_ reader: inout WireReader, _ field: String) throws(EntryCodecError) -> KeyID {
        let keyID = try reader.u32(field)
        guard keyID != 0 else { throw .zeroKeyID(field: field) }
        return keyID
    }

    private static func readCreated(_ reader: inout WireReader) throws(EntryCodecError) -> UInt64 {
        let created = try reader.u64("created")
        guard created <= EntryLimits.maxCreatedUnixSeconds else { throw .createdOutOfRange(created) }
        return created
    }

    // MARK: - Encoding

    /// The wrapped DEKs this entry carries.
    var wrappedDEKs: [WrappedDEK] {
        switch self {
        case .bootstrap(let body): return [body.storageKey.wrapped, body.raftKey.wrapped]
        case .rotateDEK(let body): return [body.key.wrapped]
        case .rewrapDEKs(let keys): return keys.map(\.wrapped)
        case .createIndexKey(let body): return [body.key.wrapped]
        case .writerRegistration, .retireDEK, .enableStorageEnvelope, .enableRaftEnvelope, .setRotationPolicy,
             .rewriteChunk: return []
        }
    }

    private static func writeKeyManagementHeader(_ subTag: UInt8, version: UInt8, to writer: inout WireWriter) {
        writer.u8(Opcode.keyManagement)
        writer.u8(subTag)
        writer.u8(version)
    }

    private static func writeNewDEK(_ key: NewDEK, version: UInt8, to writer: inout WireWriter)
        throws(EntryCodecError)
    {
        writer.u32(key.keyID)
        writer.u8(key.purpose.wireValue)
        try writeWrapped(key.wrapped, version: version, to: &writer)
    }

    private static func writeWrapped(_ wrapped: WrappedDEK, version: UInt8, to writer: inout WireWriter)
        throws(EntryCodecError)
    {
        guard version == EntryLimits.multiKEKBodyVersion else { return try writeWrapBytes(wrapped.bytes, to: &writer) }
        guard wrapped.wraps.count <= EntryLimits.maxKEKWraps else {
            throw .countOutOfRange(field: "KEK wrap count", count: wrapped.wraps.count, minimum: 0,
                                   maximum: EntryLimits.maxKEKWraps)
        }
        writer.u8(UInt8(wrapped.wraps.count))
        guard !wrapped.wraps.isEmpty else { return try writeWrapBytes(wrapped.bytes, to: &writer) }
        for wrap in wrapped.wraps {
            let id = Array(wrap.kekID.utf8)
            guard id.count >= 1 && id.count <= EntryLimits.maxKEKIDBytes else { throw .kekIDLength(id.count) }
            writer.count(id.count)
            writer.raw(id)
            try writeWrapBytes(wrap.bytes, to: &writer)
        }
    }

    private static func writeWrapBytes(_ bytes: [UInt8], to writer: inout WireWriter) throws(EntryCodecError) {
        guard bytes.count >= 1 && bytes.count <= EntryLimits.maxWrappedDEKBytes else {
            throw .wrappedDEKLength(bytes.count)
        }
        writer.count(bytes.count)
        writer.raw(bytes)
    }

    private static func writeRegistrations(
        _ registrations: [WriterRegistration], to writer: inout WireWriter
    ) throws(EntryCodecError) {
        try checkCount("registration count", registrations.count, maximum: EntryLimits.maxRegistrationsPerEntry)
        writer.count(registrations.count)
        for registration in registrations {
            writer.u32(registration.dekID)
            writer.u64(registration.fullNodeID)
            writer.u16(registration.localEpoch)
        }
    }

    private static func checkCount(_ field: String, _ count: Int, maximum: Int) throws(EntryCodecError) {
        guard count >= 1 && count <= maximum else {
            throw .countOutOfRange(field: field, count: count, minimum: 1, maximum: maximum)
        }
    }
}
