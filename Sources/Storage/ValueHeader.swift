import DurableIO

/// The 9-byte header in front of every stored value body (DESIGN §3.3, normative).
///
/// Byte 0: bit0 tombstone, bits1–2 `enc_state` (0b00 cleartext body, 0b01 storage envelope, 0b10 and 0b11
/// reserved), bits3–7 reserved and zero. Bytes 1–8: `expire_at`, big-endian milliseconds since the Unix
/// epoch, 0 for no TTL.
public struct ValueHeader: Hashable, Sendable {
    /// How the body after the header is encoded.
    public enum BodyEncoding: UInt8, Hashable, Sendable {
        /// The body is the plaintext.
        case cleartext = 0b00
        /// The body is a storage envelope sealed with a storage DEK.
        case storageEnvelope = 0b01
    }

    /// Header size in bytes.
    public static let byteCount = 9

    public var isTombstone: Bool
    public var encoding: BodyEncoding
    /// Expiry in ms since the Unix epoch; 0 means the value never expires.
    public var expireAtMillis: UInt64

    public init(isTombstone: Bool = false, encoding: BodyEncoding = .cleartext, expireAtMillis: UInt64 = 0) {
        self.isTombstone = isTombstone
        self.encoding = encoding
        self.expireAtMillis = expireAtMillis
    }

    /// Decodes the header at the start of a stored record.
    ///
    /// - Throws: ``StorageError/corruptRecord(reason:)`` for a short record, reserved bits or a reserved
    ///   `enc_state`.
    public init(decoding record: [UInt8]) throws(StorageError) {
        guard record.count >= Self.byteCount else {
            throw StorageError.corruptRecord(reason: "record of \(record.count) bytes is shorter than its header")
        }
        let flags = record[0]
        guard flags & 0b1111_1000 == 0 else {
            throw StorageError.corruptRecord(reason: "reserved header bits are set")
        }
        guard let encoding = BodyEncoding(rawValue: (flags >> 1) & 0b11) else {
            throw StorageError.corruptRecord(reason: "reserved enc_state \((flags >> 1) & 0b11)")
        }
        guard let expire = UInt64(bigEndianBytes: record[1..<Self.byteCount]) else {
            preconditionFailure("bytes 1-8 of a header hold exactly one UInt64")
        }
        self.init(isTombstone: flags & 1 == 1, encoding: encoding, expireAtMillis: expire)
    }

    /// Appends the 9 header bytes to `output`.
    public func encode(into output: inout [UInt8]) {
        output.append((isTombstone ? 1 : 0) | encoding.rawValue << 1)
        for shift in stride(from: 56, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: expireAtMillis >> shift)) }
    }

    /// Whether a value with this header is invisible at `nowMillis` because its TTL passed.
    public func isExpired(atMillis nowMillis: UInt64) -> Bool {
        expireAtMillis != 0 && expireAtMillis <= nowMillis
    }
}
