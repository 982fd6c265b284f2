import Foundation
import Testing
import TestSupport

@testable import Encryption

/// The keystore installs each key id once, tolerates replays, refuses conflicts and is safe to share.
@Suite struct KeystoreTests {
    @Test func installingTheSameBytesAgainIsANoOp() throws {
        let keystore = Keystore()
        try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .storage)
        try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .storage)
        #expect(keystore.keyIDs == [5])
        #expect(keystore.entry(id: 5)?.key.hasSameBytes(as: CipherFixtures.key(seed: 1)) == true)
    }

    @Test func installingOtherBytesOrPurposeUnderAnIDIsRefused() throws {
        let keystore = Keystore()
        try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .storage)
        #expect(throws: KeystoreError.conflictingKey(5)) {
            try keystore.install(CipherFixtures.key(seed: 2), id: 5, purpose: .storage)
        }
        #expect(throws: KeystoreError.conflictingKey(5)) {
            try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .raft)
        }
        #expect(keystore.entry(id: 5)?.key.hasSameBytes(as: CipherFixtures.key(seed: 1)) == true)
        #expect(keystore.entry(id: 5)?.purpose == .storage)
    }

    @Test func keysOfTheWrongSizeAreRefused() {
        for size in [0, 16, 31, 33, 64] {
            #expect(throws: KeystoreError.wrongKeySize(size)) {
                _ = try DataEncryptionKey(bytes: [UInt8](repeating: 1, count: size))
            }
        }
    }

    @Test func keyIDZeroIsRefused() {
        #expect(throws: KeystoreError.zeroKeyID) {
            try Keystore().install(CipherFixtures.key(seed: 1), id: 0, purpose: .raft)
        }
    }

    @Test func activationChecksPresenceAndPurpose() throws {
        let keystore = Keystore()
        #expect(throws: KeystoreError.unknownKeyID(3)) { try keystore.activate(id: 3, for: .raft) }
        try keystore.install(CipherFixtures.key(seed: 1), id: 3, purpose: .storage)
        #expect(throws: KeystoreError.purposeMismatch(3, expected: .raft)) { try keystore.activate(id: 3, for: .raft) }
        try keystore.activate(id: 3, for: .storage)
        #expect(keystore.activeKeyID(for: .storage) == 3)
        #expect(keystore.activeKeyID(for: .raft) == nil)
        keystore.remove(id: 3)
        #expect(keystore.activeKeyID(for: .storage) == nil)
        #expect(keystore.entry(id: 3) == nil)
    }

    @Test func concurrentInstallsAndReadsAgree() {
        let keystore = Keystore()
        let threads = 8
        let idsPerThread = 200
        let failures = LockedBox(0)
        CipherFixtures.runConcurrently(threads: threads) { thread in
            for index in 0..<idsPerThread {
                let id = KeyID(index + 1)
                let key = CipherFixtures.key(seed: UInt8(truncatingIfNeeded: index))
                do {
                    try keystore.install(key, id: id, purpose: index % 2 == 0 ? .storage : .raft)
                } catch {
                    failures.withLock { $0 += 1 }
                }
                if thread % 2 == 0, let entry = keystore.entry(id: id), !entry.key.hasSameBytes(as: key) {
                    failures.withLock { $0 += 1 }
                }
                _ = keystore.keyIDs
            }
        }
        #expect(failures.value == 0)
        #expect(keystore.keyIDs == (1...KeyID(idsPerThread)).map { $0 })
    }

    @Test func concurrentConflictingInstallsLetExactlyOneWin() {
        let keystore = Keystore()
        let winners = LockedBox<[Int]>([])
        CipherFixtures.runConcurrently(threads: 8) { thread in
            do throws(KeystoreError) {
                try keystore.install(CipherFixtures.key(seed: UInt8(thread * 10)), id: 42, purpose: .storage)
                winners.withLock { $0.append(thread) }
            } catch {
                precondition(error == .conflictingKey(42), "only a conflict may refuse this install")
            }
        }
        let won = winners.value
        #expect(won.count == 1)
        if let winner = won.first {
            #expect(keystore.entry(id: 42)?.key.hasSameBytes(as: CipherFixtures.key(seed: UInt8(winner * 10))) == true)
        }
    }

    @Test func generationGrowsWithEveryChangeButNotWithReplays() throws {
        let keystore = Keystore()
        let start = keystore.generation
        try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .storage)
        let installed = keystore.generation
        #expect(installed > start)
        try keystore.install(CipherFixtures.key(seed: 1), id: 5, purpose: .storage)
        #expect(keystore.generation == installed)
        try keystore.activate(id: 5, for: .storage)
        let activated = keystore.generation
        #expect(activated > installed)
        keystore.remove(id: 5)
        #expect(keystore.generation > activated)
    }
}

@Suite("Element index")
struct ElementIndexTests {
    /// Known answers from Python's `hmac.new(key, message, hashlib.sha256).digest()[:16]`.
    @Test("names are the first 16 bytes of HMAC-SHA-256 under the index key (zero key when unkeyed)")
    func knownAnswers() throws {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(ElementIndex.unkeyed.name(Array("member".utf8))) == "7285663551b5bd39295151009934b9ec")
        let keyed = ElementIndex(keyID: 5, key: try DataEncryptionKey(bytes: (0..<32).map { UInt8($0) }))
        #expect(hex(keyed.name([])) == "d38b42096d80f45f826b44a9d5607de7")
        #expect(keyed.name(Array("a".utf8)) != keyed.name(Array("b".utf8)))
        #expect("\(keyed)" == "ElementIndex(key 5)", "the description shows no key bytes")
    }
}
