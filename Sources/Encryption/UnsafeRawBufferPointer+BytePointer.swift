/// Typed views of raw byte buffers for C calls that take `unsigned char *`.
///
/// Byte buffers handed to libcrypto are arrays of bytes or raw allocations of bytes, so viewing them as
/// `UInt8` never reinterprets memory of another type.
extension UnsafeRawBufferPointer {
    /// The first byte, or `nil` for an empty buffer without storage.
    var bytePointer: UnsafePointer<UInt8>? {
        baseAddress?.assumingMemoryBound(to: UInt8.self)
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The first byte, or `nil` for an empty buffer without storage.
    var bytePointer: UnsafeMutablePointer<UInt8>? {
        baseAddress?.assumingMemoryBound(to: UInt8.self)
    }
}
