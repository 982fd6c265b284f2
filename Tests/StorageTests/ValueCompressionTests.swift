import CZstd
import Storage
import Testing

/// The zstd frame codec under the storage envelope (DESIGN §3.2): when it compresses, that what it writes
/// decodes, and that every frame it cannot trust is refused with a typed error before a large allocation.
@Suite struct ValueCompressionTests {
    /// A 1 KiB JSON-like document, as compressible as typical application values.
    static let document: [UInt8] = {
        var text = "["
        for index in 0..<12 { text += "{\"id\":\(index),\"name\":\"user-\(index)\",\"active\":true,\"tags\":[\"a\",\"b\"]}," }
        return Array(text.utf8)
    }()

    static func compress(_ body: [UInt8], _ compression: ValueCompression = .zstd) -> [UInt8]? {
        body.withUnsafeBytes { compression.compress($0) }
    }

    static func decompress(_ frame: [UInt8], limit: Int = 1 << 20) throws(StorageError) -> [UInt8] {
        var result: Result<[UInt8], StorageError>!
        frame.withUnsafeBytes { bytes in
            do throws(StorageError) {
                result = .success(try ValueCompression.decompress(bytes, maximumByteCount: limit))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    static func isRefusal(_ error: StorageError) -> Bool {
        if case .compressedValueRefused = error { return true }
        return false
    }

    @Test func aCompressibleValueRoundTripsAndShrinksByAtLeastAnEighth() throws {
        let frame = try #require(Self.compress(Self.document))
        #expect(frame.count <= Self.document.count - Self.document.count / 8)
        #expect(try Self.decompress(frame) == Self.document)
        #expect(ZSTD_getFrameContentSize(frame, frame.count) == UInt64(Self.document.count))
    }

    @Test func valuesThatDoNotPayAreLeftAsTheyAre() {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(Self.compress(random) == nil)
        #expect(Self.compress(Array(repeating: 0x61, count: ValueCompression.minimumByteCount - 1)) == nil)
        #expect(Self.compress(Array(repeating: 0x61, count: ValueCompression.minimumByteCount)) != nil)
        #expect(Self.compress(Self.document, .none) == nil)
        #expect(Self.compress([]) == nil)
    }

    @Test func aFrameDeclaringMoreThanTheLimitIsRefusedBeforeDecoding() throws {
        let bomb = try #require(Self.compress([UInt8](repeating: 0, count: 8 << 20)))
        #expect(bomb.count < 4096)
        let error = #expect(throws: StorageError.self) { try Self.decompress(bomb, limit: 1 << 20) }
        #expect(error.map(Self.isRefusal) == true)
        #expect(error?.description.contains("8388608") == true)
        #expect(try Self.decompress(bomb, limit: 8 << 20).count == 8 << 20)
    }

    @Test func aFrameWithoutItsContentSizeIsRefused() throws {
        let context = try #require(ZSTD_createCCtx())
        defer { ZSTD_freeCCtx(context) }
        #expect(ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)) == 0)
        var output = ZSTD_outBuffer(dst: nil, size: 0, pos: 0)
        var frame = [UInt8](repeating: 0, count: 4096)
        let remaining = frame.withUnsafeMutableBytes { out in
            Self.document.withUnsafeBytes { input in
                output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
                return ZSTD_compressStream2(context, &output, &source, ZSTD_e_end)
            }
        }
        #expect(remaining == 0)
        frame = Array(frame[..<output.pos])
        #expect(ZSTD_getFrameContentSize(frame, frame.count) == ZSTD_CONTENTSIZE_UNKNOWN)
        let error = #expect(throws: StorageError.self) { try Self.decompress(frame) }
        #expect(error?.description.contains("does not declare its content size") == true)
    }

    @Test func malformedFramesAreRefusedNeverGuessed() throws {
        let frame = try #require(Self.compress(Self.document))
        var cases: [[UInt8]] = [[], [0x28, 0xB5], Array("not a frame at all".utf8), Array(frame.dropLast(3))]
        var flipped = frame
        flipped[frame.count / 2] ^= 0xFF
        cases.append(flipped)
        var lying = frame
        lying[5] = lying[5] &+ 1  // the single-byte content size field of a small frame
        cases.append(lying)
        for bytes in cases {
            do {
                let decoded = try Self.decompress(bytes)
                // A flipped literal byte may still decode; it must then be the declared size (GCM catches
                // the change before this codec ever sees it).
                #expect(decoded.count == Self.document.count && decoded != Self.document)
            } catch {
                #expect(Self.isRefusal(error), "\(error)")
            }
        }
    }
}
