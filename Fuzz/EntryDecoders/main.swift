// libFuzzer entry for every decoder of untrusted encryption bytes: the FSM entry codecs (opcodes 0x03-0x05)
// and the sidecar JSON reader. Any input must either decode or throw a typed error; whatever decodes must
// encode again and decode to the same value. A crash, trap or sanitizer report is a bug.
//
// Build with the Encryption and DurableIO sources (`scripts/fuzz.sh EntryDecoders [seconds]`); seeds are in
// `corpus/`.

#if canImport(Encryption)
    import Encryption
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func entryDecodersFuzzTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    fuzzEntryCodec(bytes)
    fuzzSidecarJSON(bytes)
    return 0
}

/// Decodes `bytes` as an entry; a decoded entry must survive encode → decode unchanged.
func fuzzEntryCodec(_ bytes: [UInt8]) {
    guard let entry = try? EncryptionEntry.decode(bytes) else { return }
    guard let encoded = try? entry.encoded() else {
        preconditionFailure("an entry the decoder accepted must encode")
    }
    precondition((try? EncryptionEntry.decode(encoded)) == entry, "re-encoded entry must decode to itself")
    if bytes.first != EncryptionEntry.Opcode.bootstrap {
        precondition(encoded == bytes, "every entry but a raft-first bootstrap has one encoding")
    }
}

/// Parses `bytes` as `keys.json`; a parsed sidecar must survive its JSON round trip.
func fuzzSidecarJSON(_ bytes: [UInt8]) {
    guard let sidecar = try? Sidecar(json: bytes, path: "fuzz/keys.json") else { return }
    precondition(
        (try? Sidecar(json: sidecar.encodedJSON(), path: "fuzz/keys.json")) == sidecar,
        "a parsed sidecar must round-trip through JSON")
}
