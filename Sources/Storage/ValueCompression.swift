import CZstd
import Synchronization

/// Compression of value bodies before they are sealed (DESIGN §3.2): one zstd frame (RFC 8878) with its
/// content size in the frame header.
///
/// A body is compressed only when it has at least ``minimumByteCount`` bytes and its frame is at least 1/8
/// smaller; otherwise it is sealed as it is. Opening refuses any frame that does not declare its content
/// size, declares more than the caller's bound, or decodes to another size, so a crafted frame can never make
/// a reader allocate more than one maximum-sized value.
public enum ValueCompression: String, Sendable, Hashable, CaseIterable {
    /// zstd before sealing (the default).
    case zstd
    /// Bodies are sealed as they are; compressed bodies written earlier still read.
    case none

    /// Bodies shorter than this are never compressed: a frame's header would eat most of the gain.
    public static let minimumByteCount = 64
    /// The zstd level: 3 is zstd's own default, a balance of ratio and speed measured by `storage-bench`.
    public static let level: Int32 = 3

    /// Compresses `body` when it is worth it.
    ///
    /// - Returns: the zstd frame, or `nil` when compression is off, the body is short, or the frame would
    ///   not be at least 1/8 smaller than the body.
    public func compress(_ body: UnsafeRawBufferPointer) -> [UInt8]? {
        guard self == .zstd, body.count >= Self.minimumByteCount else { return nil }
        let limit = body.count - body.count / 8
        return ZstdContexts.shared.withCompressor { context in
            [UInt8](unsafeUninitializedCapacity: limit) { buffer, initialized in
                let written = ZSTD_compressCCtx(context, buffer.baseAddress, limit, body.baseAddress, body.count,
                                                Self.level)
                initialized = ZSTD_isError(written) == 0 ? written : 0
            }
        }.nonEmpty
    }

    /// Decodes one zstd frame written by ``compress(_:)``.
    ///
    /// - Parameters:
    ///   - frame: the opened plaintext of a compressed envelope.
    ///   - maximumByteCount: the largest body the reader accepts (the store's value bound).
    /// - Throws: ``StorageError/compressedValueRefused(reason:)`` when the frame is malformed, does not
    ///   declare its size, declares more than `maximumByteCount`, or decodes to a different size.
    public static func decompress(_ frame: UnsafeRawBufferPointer, maximumByteCount: Int)
        throws(StorageError) -> [UInt8]
    {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        if declared == ZSTD_CONTENTSIZE_ERROR {
            throw .compressedValueRefused(reason: "not a zstd frame")
        }
        if declared == ZSTD_CONTENTSIZE_UNKNOWN {
            throw .compressedValueRefused(reason: "the frame does not declare its content size")
        }
        guard declared <= UInt64(maximumByteCount) else {
            throw .compressedValueRefused(
                reason: "the frame declares \(declared) bytes, above the value limit of \(maximumByteCount) "
                    + "(a larger --max-value-bytes reads it)")
        }
        let size = Int(declared)
        var failure: StorageError?
        let body = ZstdContexts.shared.withDecompressor { context in
            [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                let written = ZSTD_decompressDCtx(context, buffer.baseAddress, size, frame.baseAddress, frame.count)
                if ZSTD_isError(written) != 0 {
                    let name = String(cString: ZSTD_getErrorName(written))
                    failure = .compressedValueRefused(reason: "the frame does not decode: \(name)")
                    initialized = 0
                } else if written != size {
                    failure = .compressedValueRefused(
                        reason: "the frame decodes to \(written) bytes, not the \(size) it declares")
                    initialized = 0
                } else {
                    initialized = written
                }
            }
        }
        if let failure { throw failure }
        return body
    }
}

extension [UInt8] {
    fileprivate var nonEmpty: [UInt8]? { isEmpty ? nil : self }
}

/// Idle zstd contexts, reused because making one allocates its work space (hundreds of KiB for
/// compression), which costs more than compressing a small value.
final class ZstdContexts: Sendable {
    static let shared = ZstdContexts()
    /// Idle contexts kept per direction; more concurrent callers make and free their own.
    static let maximumIdleCount = 16

    private struct Idle: @unchecked Sendable {
        var compressors: [OpaquePointer] = []
        var decompressors: [OpaquePointer] = []
    }

    private let idle = Mutex(Idle())

    func withCompressor<Result>(_ body: (OpaquePointer) -> Result) -> Result {
        let context = idle.withLock { $0.compressors.popLast() } ?? ZSTD_createCCtx()
        guard let context else { preconditionFailure("zstd could not allocate a compression context") }
        defer {
            let kept = idle.withLock { idle in
                guard idle.compressors.count < Self.maximumIdleCount else { return false }
                idle.compressors.append(context)
                return true
            }
            if !kept { ZSTD_freeCCtx(context) }
        }
        return body(context)
    }

    func withDecompressor<Result>(_ body: (OpaquePointer) -> Result) -> Result {
        let context = idle.withLock { $0.decompressors.popLast() } ?? ZSTD_createDCtx()
        guard let context else { preconditionFailure("zstd could not allocate a decompression context") }
        defer {
            let kept = idle.withLock { idle in
                guard idle.decompressors.count < Self.maximumIdleCount else { return false }
                idle.decompressors.append(context)
                return true
            }
            if !kept { ZSTD_freeDCtx(context) }
        }
        return body(context)
    }
}
