/// What an envelope is bound to: its purpose and, for storage, the user key and MVCC version it belongs to.
///
/// The context becomes the AES-GCM additional data (DESIGN §3.2), so an envelope opens only in the context it
/// was sealed for: a storage value copied to another key or version, or a raft payload given another key id,
/// fails authentication.
public enum EnvelopeContext: Hashable, Sendable {
    /// A value of the MVCC store: AAD = `envelope[0..<6] ‖ userKey ‖ u64be(commitTimestamp)`.
    case storage(userKey: [UInt8], commitTimestamp: UInt64)
    /// A Raft entry payload: AAD = `0x52 ‖ envelope[0] ‖ envelope[2..<6]`.
    case raft

    /// The purpose a key must serve to seal or open in this context.
    public var purpose: KeyPurpose {
        switch self {
        case .storage: return .storage
        case .raft: return .raft
        }
    }

    /// The length of the additional data for this context.
    var additionalDataByteCount: Int {
        switch self {
        case .storage(let userKey, _): return 6 + userKey.count + 8
        case .raft: return 6
        }
    }

    /// Writes the additional data for an envelope whose header is `header` into `buffer`.
    ///
    /// - Precondition: `header.count >= 6` and `buffer.count == additionalDataByteCount`.
    func writeAdditionalData(header: UnsafeRawBufferPointer, to buffer: UnsafeMutableRawBufferPointer) {
        precondition(header.count >= 6, "additional data needs the first six header bytes")
        precondition(buffer.count == additionalDataByteCount, "additional data buffer has the wrong size")
        switch self {
        case .storage(let userKey, let commitTimestamp):
            buffer.baseAddress!.copyMemory(from: header.baseAddress!, byteCount: 6)
            userKey.withUnsafeBytes { keyBytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[6..<(6 + keyBytes.count)]).copyMemory(from: keyBytes)
            }
            buffer.storeBytes(of: commitTimestamp.bigEndian, toByteOffset: 6 + userKey.count, as: UInt64.self)
        case .raft:
            precondition(buffer.count == 6, "raft additional data is exactly six bytes")
            buffer[0] = 0x52
            buffer[1] = header[0]
            buffer.baseAddress!.advanced(by: 2).copyMemory(from: header.baseAddress!.advanced(by: 2), byteCount: 4)
        }
    }
}
