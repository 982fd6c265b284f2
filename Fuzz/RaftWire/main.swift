// libFuzzer entry for the Raft message wire codec, the decoder of every frame a peer sends. Any input must
// either decode or throw a typed error; whatever decodes must encode to exactly the input bytes (the
// encoding is canonical) and decode again to the same message. A crash, trap or sanitizer report is a bug.
//
// Build with the Raft and DurableIO sources (`scripts/fuzz.sh RaftWire [seconds]`); seeds are in `corpus/`.

import Raft

/// Small limits, so the fuzzer reaches every limit check with short inputs.
let fuzzLimits = WireLimits(
    maxEntriesPerMessage: 8, maxEntryBytes: 64, maxChunkBytes: 256, maxContextBytes: 32, maxMessageBytes: 4096)

@_cdecl("LLVMFuzzerTestOneInput")
public func raftWireFuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for limits in [fuzzLimits, WireLimits.defaults] {
        guard let message = try? MessageWireCodec.decode(bytes, limits: limits) else { continue }
        guard let encoded = try? MessageWireCodec.encode(message, limits: limits) else {
            preconditionFailure("a message the decoder accepted must encode under the same limits")
        }
        precondition(encoded == bytes, "the wire encoding is canonical")
        precondition((try? MessageWireCodec.decode(encoded, limits: limits)) == message, "re-encoded message differs")
    }
    return 0
}
