/// The 96-bit AES-GCM nonce of an envelope: `node16 ‖ local_epoch ‖ counter`, all big-endian (DESIGN §3.2).
///
/// Uniqueness per DEK comes from its parts: `node16` is unique per node among the writers of a DEK (writer
/// registry), `localEpoch` changes at every process start, and `counter` never repeats within a process.
/// A nonce is not secret.
public struct Nonce: Hashable, Sendable, CustomStringConvertible {
    /// Bytes of the encoded nonce.
    public static let byteCount = 12

    /// The low 16 bits of the sealing node's full id.
    public var node16: UInt16
    /// The sealing process's epoch for this DEK on this node.
    public var localEpoch: UInt16
    /// The per-(DEK, process) sequence number.
    public var counter: UInt64

    public init(node16: UInt16, localEpoch: UInt16, counter: UInt64) {
        self.node16 = node16
        self.localEpoch = localEpoch
        self.counter = counter
    }

    /// Decodes the 12 bytes of a nonce.
    ///
    /// - Precondition: `bytes.count == 12`.
    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == Self.byteCount, "a nonce is exactly 12 bytes")
        node16 = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        localEpoch = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        counter = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
    }

    /// Writes the 12 encoded bytes at the start of `buffer`.
    ///
    /// - Precondition: `buffer.count >= 12`.
    public func write(to buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.byteCount, "a nonce needs 12 bytes of room")
        buffer.storeBytes(of: node16.bigEndian, toByteOffset: 0, as: UInt16.self)
        buffer.storeBytes(of: localEpoch.bigEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: counter.bigEndian, toByteOffset: 4, as: UInt64.self)
    }

    /// The 12 encoded bytes.
    public var bytes: [UInt8] {
        var result = [UInt8](repeating: 0, count: Self.byteCount)
        result.withUnsafeMutableBytes { write(to: $0) }
        return result
    }

    public var description: String { "Nonce(node16: \(node16), localEpoch: \(localEpoch), counter: \(counter))" }
}
