import ElastickvAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

@testable import Server

@Suite struct KVServiceTests {
    typealias KV = Elastickv_V1_KV.Client<HTTP2ClientTransport.Posix>

    static let options = AdminTestServer.callOptions

    /// Runs `body` against a `KVService` over `storage`, served on an ephemeral loopback port.
    static func withService(
        _ storage: FakeKeyValueAccess, limits: KVService.Limits = .init(), _ body: (KV) async throws -> Void
    ) async throws {
        try await AdminTestServer.run([KVService(storage: storage, limits: limits)]) { client, _ in
            try await body(KV(wrapping: client))
        }
    }

    static func put(_ kv: KV, _ key: String, _ value: String) async throws {
        var request = Elastickv_V1_PutRequest()
        request.key = Data(key.utf8)
        request.value = Data(value.utf8)
        _ = try await kv.put(request, options: options)
    }

    static func scan(_ kv: KV, from start: String, to end: String = "", limit: UInt32) async throws -> [String] {
        var request = Elastickv_V1_ScanRequest()
        request.start = Data(start.utf8)
        request.end = Data(end.utf8)
        request.limit = limit
        let response = try await kv.scan(request, options: options)
        return response.items.map {
            String(decoding: $0.key, as: UTF8.self) + "=" + String(decoding: $0.value, as: UTF8.self)
        }
    }

    @Test func putThenGetReturnsTheValueAndPassesTheLeaseFlag() async throws {
        let storage = FakeKeyValueAccess()
        try await Self.withService(storage) { kv in
            try await Self.put(kv, "alpha", "one")
            var get = Elastickv_V1_GetRequest()
            get.key = Data("alpha".utf8)
            get.leaseRead = true
            let found = try await kv.get(get, options: Self.options)
            #expect(found.found && found.value == Data("one".utf8))
            #expect(storage.state.withLock { $0.lastLeaseRead } == true)
            get.key = Data("missing".utf8)
            get.leaseRead = false
            let missing = try await kv.get(get, options: Self.options)
            #expect(!missing.found && missing.value.isEmpty)
            #expect(storage.state.withLock { $0.lastLeaseRead } == false)
        }
    }

    @Test func deleteReportsWhetherAValueWasThere() async throws {
        try await Self.withService(FakeKeyValueAccess()) { kv in
            try await Self.put(kv, "k", "v")
            var delete = Elastickv_V1_DeleteRequest()
            delete.key = Data("k".utf8)
            #expect(try await kv.delete(delete, options: Self.options).deleted)
            #expect(try await !kv.delete(delete, options: Self.options).deleted)
        }
    }

    @Test func scanReturnsTheHalfOpenRangeInKeyOrderUpToTheLimit() async throws {
        let storage = FakeKeyValueAccess()
        try await Self.withService(storage) { kv in
            for key in ["d", "a", "c", "b", "e"] { try await Self.put(kv, key, key.uppercased()) }
            #expect(try await Self.scan(kv, from: "b", to: "e", limit: 10) == ["b=B", "c=C", "d=D"])
            #expect(try await Self.scan(kv, from: "b", limit: 2) == ["b=B", "c=C"])
            #expect(try await Self.scan(kv, from: "a", limit: 0).count == 5)
            #expect(storage.state.withLock { $0.lastScanLimit } == KVService.Limits().maxScanItems)
        }
    }

    @Test func scanOverTheMaximumOrBackwardsIsInvalid() async throws {
        let storage = FakeKeyValueAccess()
        try await Self.withService(storage, limits: .init(maxScanItems: 3)) { kv in
            let tooMany = await ClusterServiceTests.rpcError { _ = try await Self.scan(kv, from: "a", limit: 4) }
            #expect(tooMany?.code == .invalidArgument)
            #expect(tooMany?.message == "scan limit 4 exceeds the maximum of 3")
            let backwards = await ClusterServiceTests.rpcError {
                _ = try await Self.scan(kv, from: "b", to: "a", limit: 1)
            }
            #expect(backwards?.code == .invalidArgument)
            #expect(storage.state.withLock { $0.lastScanLimit } == nil)
        }
    }

    @Test func scanNeverReturnsMoreThanAskedEvenWhenTheNodeDoes() async throws {
        let storage = FakeKeyValueAccess()
        storage.state.withLock { $0.scanOverflow = 5 }
        try await Self.withService(storage) { kv in
            for key in ["a", "b", "c", "d"] { try await Self.put(kv, key, "v") }
            #expect(try await Self.scan(kv, from: "a", limit: 2) == ["a=v", "b=v"])
        }
    }

    @Test func scanStopsAtTheResponseByteLimitButReturnsAtLeastOnePair() async throws {
        try await Self.withService(FakeKeyValueAccess(), limits: .init(maxScanResponseBytes: 10)) { kv in
            try await Self.put(kv, "a", "1234")
            try await Self.put(kv, "b", "1234")
            try await Self.put(kv, "c", "1234")
            #expect(try await Self.scan(kv, from: "a", limit: 10) == ["a=1234", "b=1234"])
            try await Self.put(kv, "big", String(repeating: "x", count: 50))
            #expect(try await Self.scan(kv, from: "big", limit: 10).count == 1)
        }
    }

    @Test func emptyOrOversizedKeysAreInvalid() async throws {
        let storage = FakeKeyValueAccess()
        try await Self.withService(storage, limits: .init(maxKeyBytes: 4)) { kv in
            let empty = await ClusterServiceTests.rpcError { try await Self.put(kv, "", "v") }
            #expect(empty?.code == .invalidArgument)
            #expect(empty?.message == "key is required")
            let long = await ClusterServiceTests.rpcError { try await Self.put(kv, "12345", "v") }
            #expect(long?.code == .invalidArgument)
            #expect(long?.message == "key is 5 bytes; the maximum is 4")
            var get = Elastickv_V1_GetRequest()
            get.key = Data("12345".utf8)
            let longGet = await ClusterServiceTests.rpcError { _ = try await kv.get(get, options: Self.options) }
            #expect(longGet?.code == .invalidArgument)
        }
        #expect(storage.state.withLock { $0.values.isEmpty && $0.lastLeaseRead == nil })
    }

    @Test(arguments: [
        (
            RawKeyValueError.notLeader(leaderAddress: "10.0.0.1:50051"), RPCError.Code.failedPrecondition,
            "10.0.0.1:50051"
        ),
        (.notLeader(leaderAddress: nil), .unavailable, "no leader is known"),
        (.invalidArgument("value is 9 bytes; the maximum is 8"), .invalidArgument, "the maximum is 8"),
        (.unavailable("shutting down"), .unavailable, "shutting down"),
        (.ambiguous("the deadline passed"), .deadlineExceeded, "AMBIGUOUS the deadline passed"),
        (.failed("storage is read-only"), .internalError, "storage is read-only"),
    ])
    func nodeErrorsMapToStatusCodes(failure: RawKeyValueError, code: RPCError.Code, message: String) async throws {
        let storage = FakeKeyValueAccess()
        storage.fail(with: failure)
        try await Self.withService(storage) { kv in
            var get = Elastickv_V1_GetRequest()
            get.key = Data("k".utf8)
            var delete = Elastickv_V1_DeleteRequest()
            delete.key = Data("k".utf8)
            let calls: [() async throws -> Void] = [
                { _ = try await kv.get(get, options: Self.options) },
                { try await Self.put(kv, "k", "v") },
                { _ = try await kv.delete(delete, options: Self.options) },
                { _ = try await Self.scan(kv, from: "", limit: 1) },
            ]
            for call in calls {
                let error = try #require(await ClusterServiceTests.rpcError(call))
                #expect(error.code == code)
                #expect(error.message.contains(message))
                let leader = Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey])
                #expect(leader == (code == .failedPrecondition ? ["10.0.0.1:50051"] : []))
            }
        }
    }
}
