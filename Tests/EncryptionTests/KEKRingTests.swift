import Encryption
import Synchronization
import Testing

/// A provider that is a test KEK of one generation, can be made unavailable, and counts its calls.
final class OutageKEK: KEKProvider, @unchecked Sendable {
    let kek: SidecarTestKEK
    let id: String
    private let state = Mutex((down: false, calls: 0))

    init(generation: UInt8, id: String) {
        kek = SidecarTestKEK(generation: generation)
        self.id = id
    }

    var down: Bool {
        get { state.withLock { $0.down } }
        set { state.withLock { $0.down = newValue } }
    }
    var calls: Int { state.withLock { $0.calls } }

    private func enter() throws {
        let down = state.withLock { state -> Bool in
            state.calls += 1
            return state.down
        }
        if down { throw KEKProviderError.unavailable(provider: id, reason: "connection refused") }
    }

    func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try enter()
        return try kek.wrap(key)
    }

    func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        try enter()
        do { return try kek.unwrap(wrapped) } catch { throw KEKProviderError.mismatch(provider: id) }
    }
}

@Suite struct KEKRingTests {
    static func ring(_ providers: [OutageKEK], previous: OutageKEK? = nil) -> KEKRing {
        var members = providers.map { KEKRing.Member(provider: $0, scheme: "test", configuredID: $0.id) }
        if let previous {
            members.append(KEKRing.Member(provider: previous, scheme: "test", configuredID: previous.id,
                                          wrapsNewKeys: false))
        }
        return KEKRing(members)
    }

    @Test func aSingleKEKRecordsNoKEKIDsSoFormatsStayAsBefore() throws {
        let ring = Self.ring([OutageKEK(generation: 1, id: "a")])
        let key = DataEncryptionKey.generate()
        let wrapped = try ring.wrapForStorage(key)
        #expect(wrapped.wraps.isEmpty)
        #expect(try ring.unwrap(wrapped).hasSameBytes(as: key))
    }

    @Test func everyWrappingKEKWrapsEveryDEKPrimaryFirst() throws {
        let a = OutageKEK(generation: 1, id: "a"), b = OutageKEK(generation: 2, id: "b")
        let key = DataEncryptionKey.generate()
        let wrapped = try Self.ring([a, b]).wrapForStorage(key)
        #expect(wrapped.kekIDs == ["a", "b"])
        #expect(wrapped.bytes == wrapped.bytes(for: "a"))
        // Either KEK alone opens it.
        #expect(try Self.ring([b]).unwrap(wrapped).hasSameBytes(as: key))
        #expect(try Self.ring([a]).unwrap(wrapped).hasSameBytes(as: key))
    }

    @Test func aDownPrimaryFallsBackToTheSecondKEK() throws {
        let a = OutageKEK(generation: 1, id: "a"), b = OutageKEK(generation: 2, id: "b")
        let ring = Self.ring([a, b])
        let key = DataEncryptionKey.generate()
        let wrapped = try ring.wrapForStorage(key)
        a.down = true
        #expect(try ring.unwrap(wrapped).hasSameBytes(as: key))
    }

    @Test func aWrapFailsWhenAnyWrappingKEKIsDownNamingIt() throws {
        let a = OutageKEK(generation: 1, id: "a"), b = OutageKEK(generation: 2, id: "b")
        b.down = true
        let error = #expect(throws: KEKRingError.self) { try Self.ring([a, b]).wrapForStorage(.generate()) }
        #expect(error?.isTransient == true)
        #expect("\(error!)".contains("KEK b"))
    }

    @Test func onlyUnavailableProvidersMakeTheFailureTransient() throws {
        let a = OutageKEK(generation: 1, id: "a"), b = OutageKEK(generation: 2, id: "b")
        let wrapped = try Self.ring([a, b]).wrapForStorage(.generate())
        a.down = true
        b.down = true
        let down = #expect(throws: KEKRingError.self) { try Self.ring([a, b]).unwrap(wrapped) }
        #expect(down?.isTransient == true)
        #expect("\(down!)".hasPrefix("ErrKEKUnavailable"))
        let other = OutageKEK(generation: 3, id: "c")
        let mismatch = #expect(throws: KEKRingError.self) { try Self.ring([other]).unwrap(wrapped) }
        #expect(mismatch?.isTransient == false)
        #expect("\(mismatch!)".hasPrefix("ErrKEKMismatch"))
    }

    @Test func aPreviousKEKOnlyUnwrapsAndNeverReceivesWraps() throws {
        let old = OutageKEK(generation: 1, id: "old"), new = OutageKEK(generation: 2, id: "new")
        let key = DataEncryptionKey.generate()
        let legacy = WrappedDEK(try old.wrap(key))
        let ring = Self.ring([new], previous: old)
        #expect(try ring.unwrap(legacy).hasSameBytes(as: key))
        #expect(ring.wrappingKEKIDs == ["new"])
        let fresh = try ring.wrapForStorage(key)
        #expect(throws: (any Error).self) { try old.unwrap(fresh.bytes) }
    }

    @Test func checkValuesListWrappingKEKsAndOneSharedKEKIsCompatible() {
        let ring = Self.ring([OutageKEK(generation: 1, id: "a"), OutageKEK(generation: 2, id: "b")])
        #expect(ring.checkValue == "a,b")
        #expect(KEKCheck.compatible("b", with: "a,b"))
        #expect(KEKCheck.compatible("a,b", with: "b,c"))
        #expect(!KEKCheck.compatible("c", with: "a,b"))
        #expect(!KEKCheck.compatible("", with: "a"))
        #expect(KEKCheck.compatible("0123abcd", with: "0123abcd"))
    }

    @Test func fileKEKIDsAreFingerprintsThatFollowTheKey() throws {
        // The id is 16 hex digits and differs between keys; it is derived with HMAC, never the key itself.
        let paths = try [1, 2, 1].map { try KEKProviderTests.writeKEKFile([UInt8](repeating: UInt8($0), count: 32), mode: 0o600) }
        defer { paths.forEach(KEKProviderTests.removeKEKFile) }
        let first = try FileKEKProvider(path: paths[0])
        let second = try FileKEKProvider(path: paths[1])
        let again = try FileKEKProvider(path: paths[2])
        #expect(first.kekID?.count == 16)
        #expect(first.kekID?.allSatisfy(\.isHexDigit) == true)
        #expect(first.kekID == again.kekID)
        #expect(first.kekID != second.kekID)
        #expect(first.kekID.map { !$0.contains("0101") } == true)
    }
}
