import DurableIO
import Encryption
import Testing

@testable import Server

@Suite struct NodeKEKsTests {
    /// A test KEK per URI: wraps by XOR with a pad derived from the URI, so each URI is a different KEK.
    struct NamedKEK: KEKProvider {
        struct Mismatch: Error {}
        let pad: UInt8

        func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
            [pad] + key.secret.withUnsafeBytes { $0.map { $0 ^ pad } }
        }

        func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
            guard wrapped.first == pad else { throw Mismatch() }
            return try DataEncryptionKey(bytes: wrapped.dropFirst().map { $0 ^ pad })
        }
    }

    static let factory: NodeKEKs.Factory = { uri, _ in
        if uri.body == "down" { throw KEKProviderError.unavailable(provider: uri.withoutQuery, reason: "refused") }
        if uri.body == "broken" { throw KEKProviderError.misconfigured(provider: uri.withoutQuery, reason: "no module") }
        return NodeKEKs.Built(provider: NamedKEK(pad: UInt8(truncatingIfNeeded: uri.body.hashValue | 1)),
                              remote: uri.scheme != "file")
    }

    static func ring(_ configure: (inout NodeConfiguration) -> Void) throws -> KEKRing? {
        var configuration = NodeConfiguration()
        configure(&configuration)
        return try NodeKEKs.ring(configuration, fileSystem: PosixFileSystem(), metrics: nil, factory: factory)
    }

    @Test func kekFileComesFirstThenEveryKEKInOrderAndThePreviousOnlyUnwraps() throws {
        let ring = try #require(try Self.ring {
            $0.kekFile = "/k/file"
            $0.kekURIs = ["exec:/bin/kek", "aws-kms:alias/a?region=r"]
            $0.previousKEKFile = "/k/old"
        })
        #expect(ring.members.map(\.configuredID) == ["file:/k/file", "exec:/bin/kek", "aws-kms:alias/a", "file:/k/old"])
        #expect(ring.members.map(\.wrapsNewKeys) == [true, true, true, false])
        #expect(ring.members.map(\.scheme) == ["file", "exec", "aws-kms", "file"])
        #expect(ring.wrappingKEKIDs == ["file:/k/file", "exec:/bin/kek", "aws-kms:alias/a"])
        // Remote providers get the retry policy; their health is reported.
        #expect(ring.members[1].provider is ResilientKEKProvider)
        #expect(!(ring.members[0].provider is ResilientKEKProvider))
        let key = DataEncryptionKey.generate()
        #expect(try ring.wrapForStorage(key).kekIDs.count == 3)
    }

    @Test func noKEKMeansNoRingAndBadOrRepeatedURIsAreRefused() throws {
        #expect(try Self.ring { _ in } == nil)
        #expect(throws: KEKURIError.duplicate("file:/k")) { try Self.ring { $0.kekFile = "/k"; $0.kekURIs = ["file:/k"] } }
        #expect(throws: KEKURIError.unknownScheme("vault")) { try Self.ring { $0.kekURIs = ["vault:x"] } }
        #expect(throws: KEKProviderError.self) { try Self.ring { $0.kekURIs = ["pkcs11:broken"] } }
    }

    @Test func aProviderDownAtStartIsMadeOnFirstUseSoASecondKEKCanStartTheNode() throws {
        let ring = try #require(try Self.ring { $0.kekURIs = ["kms-plugin:down", "file:/k"] })
        let key = DataEncryptionKey.generate()
        let fileOnly = try #require(try Self.ring { $0.kekURIs = ["file:/k"] })
        let wrapped = try fileOnly.wrapForStorage(key)
        #expect(try ring.unwrap(wrapped).hasSameBytes(as: key))
        #expect(throws: KEKRingError.self) { try ring.wrapForStorage(key) }
    }
}
