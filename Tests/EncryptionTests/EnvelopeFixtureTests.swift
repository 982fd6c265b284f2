import Foundation
import Synchronization
import Testing

@testable import Encryption

/// Shared inputs and helpers for the cipher, envelope, nonce and KEK tests.
enum CipherFixtures {
    /// The storage key id of DESIGN §3.5's example.
    static let storageKeyID: KeyID = 305_419_896
    /// The raft key id of DESIGN §3.5's example.
    static let raftKeyID: KeyID = 2_596_069_104
    /// The node16 every fixture keyring seals with.
    static let node16: UInt16 = 0xBEEF

    static func bytes(hex: String) -> [UInt8] {
        precondition(hex.count % 2 == 0, "hex strings have an even length")
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// A DEK whose bytes are `seed, seed+1, …`.
    static func keyBytes(seed: UInt8) -> [UInt8] {
        (0..<32).map { seed &+ UInt8($0) }
    }

    static func key(seed: UInt8) -> DataEncryptionKey {
        try! DataEncryptionKey(bytes: keyBytes(seed: seed))
    }

    /// A keystore with an active storage key (seed 1) and an active raft key (seed 2), and a keyring over it
    /// with local epoch 7 set for both.
    static func keyring() -> SealingKeyring {
        let keystore = Keystore()
        try! keystore.install(key(seed: 1), id: storageKeyID, purpose: .storage)
        try! keystore.install(key(seed: 2), id: raftKeyID, purpose: .raft)
        try! keystore.activate(id: storageKeyID, for: .storage)
        try! keystore.activate(id: raftKeyID, for: .raft)
        let keyring = SealingKeyring(keystore: keystore, node16: node16)
        try! keyring.setLocalEpoch(7, for: storageKeyID)
        try! keyring.setLocalEpoch(7, for: raftKeyID)
        return keyring
    }

    /// Held while a test changes the process environment or starts a process that inherits it: the C
    /// environment is not thread-safe, and a child spawned during `setenv` could read a freed array.
    static let environmentLock = Mutex(())

    /// Runs `body(threadIndex)` on `threads` new threads at once and waits for all of them.
    static func runConcurrently(threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchSemaphore(value: 0)
        for index in 0..<threads {
            let thread = Thread {
                body(index)
                done.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        for _ in 0..<threads { done.wait() }
    }
}

@Suite struct EnvelopeFixtureTests {
    @Test func hexRoundTrips() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA5, 0xFF]
        #expect(CipherFixtures.hex(bytes) == "000fa5ff")
        #expect(CipherFixtures.bytes(hex: "000fa5ff") == bytes)
    }
}
