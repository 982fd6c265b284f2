import Encryption

// Fuzzes the envelope parser and opener with fixed test keys. The first input byte picks what to do:
// even → treat the rest as an envelope and parse and open it as storage and raft (it must fail cleanly or open
// to a plaintext whose size matches); odd → treat the rest as a plaintext, seal it, open it back, and check that
// flipping one byte of the envelope makes opening fail. Any crash or failed precondition is a bug.

let storageKeyID: KeyID = 0x1234_5678
let raftKeyID: KeyID = 0x9ABC_DEF0
let keystore = makeKeystore()
let keyring = makeKeyring()
let storageContext = EnvelopeContext.storage(userKey: Array("fuzz".utf8), commitTimestamp: 42)

func makeKeystore() -> Keystore {
    let keystore = Keystore()
    do {
        try keystore.install(DataEncryptionKey(bytes: (0..<32).map { UInt8($0) }), id: storageKeyID, purpose: .storage)
        try keystore.install(DataEncryptionKey(bytes: (0..<32).map { UInt8(0xFF - $0) }), id: raftKeyID, purpose: .raft)
        try keystore.activate(id: storageKeyID, for: .storage)
        try keystore.activate(id: raftKeyID, for: .raft)
    } catch {
        preconditionFailure("fixed fuzz keys must install: \(error)")
    }
    return keystore
}

func makeKeyring() -> SealingKeyring {
    let keyring = SealingKeyring(keystore: keystore, node16: 0xF022)
    do {
        try keyring.setLocalEpoch(1, for: storageKeyID)
        try keyring.setLocalEpoch(1, for: raftKeyID)
    } catch {
        preconditionFailure("fixed fuzz epochs must set: \(error)")
    }
    return keyring
}

func parseAndOpen(_ envelope: [UInt8]) {
    for (purpose, context) in [(KeyPurpose.storage, storageContext), (.raft, .raft)] {
        if let sealed = try? SealedEnvelope(combined: envelope, purpose: purpose) {
            precondition(envelope.count >= Envelope.overheadByteCount, "a parsed envelope holds header and tag")
            precondition(envelope[0] == 1 && sealed.keyID != 0, "a parsed envelope has version 1 and a key id")
            precondition(sealed.ciphertext.count + 34 == envelope.count, "ciphertext is what header and tag leave")
        }
        do {
            let plaintext = try keyring.open(envelope, authenticating: context)
            precondition(plaintext.count + 34 == envelope.count, "an opened envelope yields its payload size")
        } catch {
            _ = String(describing: error)
        }
    }
}

func roundTrip(_ plaintext: [UInt8]) {
    do {
        let context = plaintext.count % 2 == 0 ? storageContext : .raft
        let envelope = try keyring.seal(plaintext, authenticating: context)
        let opened = try keyring.open(envelope, authenticating: context)
        precondition(opened == plaintext, "round trip must hold")
        var altered = envelope
        let position = Int(plaintext.first ?? 0) % altered.count
        altered[position] ^= 0x01
        precondition((try? keyring.open(altered, authenticating: context)) == nil, "an altered byte must not open")
    } catch {
        preconditionFailure("sealing and opening a fresh value must not fail: \(error)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = bytes.first else { return 0 }
    if mode % 2 == 0 { parseAndOpen(Array(bytes.dropFirst())) } else { roundTrip(Array(bytes.dropFirst())) }
    return 0
}
