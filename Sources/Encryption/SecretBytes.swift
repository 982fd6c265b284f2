#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Immutable secret bytes in memory this object owns, overwritten with zeros when it is freed.
///
/// Swift arrays may be copied or moved by the runtime without our knowledge, so key material lives in a
/// single heap allocation that is never copied implicitly and is zeroed in `deinit`.
public final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into a fresh allocation. The caller should zero its own copy when it can.
    public init<Bytes: Collection<UInt8>>(copying bytes: Bytes) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        storage.copyBytes(from: bytes)
        count = bytes.count
    }

    /// The number of secret bytes.
    public let count: Int

    deinit {
        SecretBytes.zero(storage)
        storage.deallocate()
    }

    /// Gives read access to the bytes for the duration of `body`. Do not let the pointer escape.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Compares in time that depends only on the lengths.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { mine in
            other.withUnsafeBytes { theirs in
                var difference: UInt8 = 0
                for index in 0..<count { difference |= mine[index] ^ theirs[index] }
                return difference == 0
            }
        }
    }

    /// Overwrites a buffer with zeros in a way the optimiser may not remove.
    public static func zero(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        #if canImport(Darwin)
            _ = memset_s(base, buffer.count, 0, buffer.count)
        #else
            explicit_bzero(base, buffer.count)
        #endif
    }
}
