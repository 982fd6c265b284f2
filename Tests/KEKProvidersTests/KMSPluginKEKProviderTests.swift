import Dispatch
import Encryption
import Foundation
import Synchronization
import Testing
import TestSupport

@testable import KEKProviders

/// The `kms-plugin:` provider against ``KMSPluginTestServer``, a KMS v2 plugin on a unix socket.
///
/// Serialized: several tests measure how long a failing call takes, which other tests' load would blur.
@Suite(.serialized)
struct KMSPluginKEKProviderTests {
    typealias WrappedForm = KMSPluginKEKProvider.WrappedForm

    @Test func wrapThenUnwrapGivesTheKeyBack() async throws {
        try await withPlugin { server, provider in
            let key = DataEncryptionKey.generate()
            let wrapped = try provider.wrap(key)
            let unwrapped = try provider.unwrap(wrapped)
            #expect(unwrapped.hasSameBytes(as: key))
            #expect(!Self.contains(wrapped, Self.bytes(of: key)))
            #expect(provider.currentKeyID() == "key-1")
            #expect(provider.lastWrapKeyID() == "key-1")
            #expect(try provider.keyID(ofWrapped: wrapped) == "key-1")
            let uids = server.requestUIDs
            #expect(uids.count == 2 && Set(uids).count == 2)
            #expect(uids.allSatisfy { UUID(uuidString: $0) != nil && $0 == $0.lowercased() })
        }
    }

    @Test func wrappedBytesFollowTheDocumentedFormat() throws {
        let form = WrappedForm(
            keyID: "k1",
            annotations: [.init(name: "b.test", value: [9]), .init(name: "a.test", value: [7, 8])],
            ciphertext: [1, 2, 3])
        let expected: [UInt8] =
            [1, 0, 2] + Array("k1".utf8) + [0, 2]
            + [0, 6] + Array("a.test".utf8) + [0, 2, 7, 8]
            + [0, 6] + Array("b.test".utf8) + [0, 1, 9]
            + [0, 3, 1, 2, 3]
        #expect(form.encoded() == expected)
        #expect(WrappedForm(decoding: expected) == form)

        var unsorted = expected
        unsorted.replaceSubrange(7..<13, with: Array("c.test".utf8))
        let malformed: [[UInt8]] = [
            [], [2] + expected.dropFirst(), expected + [0], Array(expected.dropLast()), unsorted,
            [1, 0, 0, 0, 0, 0, 1, 5],  // empty key id
            [1, 0, 1, 0x6B, 0, 0, 0, 0],  // empty ciphertext
            [1, 0, 1, 0xFF, 0, 0, 0, 1, 5],  // key id not UTF-8
        ]
        for bytes in malformed { #expect(WrappedForm(decoding: bytes) == nil, "\(bytes)") }
    }

    @Test func rotatedKeyIsSeenThroughStatusAndOldWrapsStillUnwrap() async throws {
        try await withPlugin { server, provider in
            let old = DataEncryptionKey.generate()
            let oldWrapped = try provider.wrap(old)
            let rotated = server.rotate()
            #expect(provider.currentKeyID() == "key-1")
            #expect(try provider.status() == .init(version: "v2", healthz: "ok", keyID: rotated))
            #expect(provider.currentKeyID() == rotated)
            let again = server.rotate()
            provider.probe()
            #expect(provider.currentKeyID() == again, "a probe asks Status")

            let new = DataEncryptionKey.generate()
            let newWrapped = try provider.wrap(new)
            #expect(provider.lastWrapKeyID() == again)
            #expect(try provider.keyID(ofWrapped: newWrapped) == again)
            #expect(try provider.keyID(ofWrapped: oldWrapped) == "key-1")
            #expect(try provider.unwrap(oldWrapped).hasSameBytes(as: old))
            #expect(try provider.unwrap(newWrapped).hasSameBytes(as: new))
        }
    }

    @Test func alteredBytesAreAMismatch() async throws {
        try await withPlugin { server, provider in
            let key = DataEncryptionKey.generate()
            let wrapped = try provider.wrap(key)
            // 1 version byte, "key-1" at 3..<8, one annotation "version.test" whose value "1" is at 26.
            var otherKeyID = wrapped
            otherKeyID[7] = UInt8(ascii: "9")
            var otherAnnotation = wrapped
            otherAnnotation[26] = UInt8(ascii: "2")
            var otherCiphertext = wrapped
            otherCiphertext[wrapped.count - 1] ^= 0x01
            for altered in [otherKeyID, otherAnnotation, otherCiphertext] {
                let error = Self.failure { try provider.unwrap(altered) }
                #expect(error == .mismatch(provider: provider.providerName))
                Self.expectNoSecrets(in: error, key: key, wrapped: wrapped)
            }
            let callsBefore = server.requestUIDs.count
            for malformed in [Array(wrapped.dropLast()), wrapped + [0], [UInt8]()] {
                #expect(Self.failure { try provider.unwrap(malformed) } == .mismatch(provider: provider.providerName))
            }
            #expect(server.requestUIDs.count == callsBefore, "malformed bytes never reach the plugin")
            #expect(try provider.unwrap(wrapped).hasSameBytes(as: key))
        }
    }

    @Test func failuresWithoutACauseAreClassifiedByThePluginsHealth() async throws {
        try await withPlugin { server, provider in
            let key = DataEncryptionKey.generate()
            let wrapped = try provider.wrap(key)
            server.behaviour.decryptFailure = .internalError
            #expect(Self.failure { try provider.unwrap(wrapped) } == .mismatch(provider: provider.providerName))
            server.behaviour.healthz = "down"
            let unhealthy = Self.failure { try provider.unwrap(wrapped) }
            #expect(unhealthy?.isTransient == true)

            server.behaviour = .init(encryptFailure: .internalError)
            #expect(Self.failure { try provider.wrap(key) }?.isTransient == true)
            server.behaviour.encryptFailure = .permissionDenied
            let denied = Self.failure { try provider.wrap(key) }
            guard case .rejected(_, let reason) = denied else {
                Issue.record("expected a refusal, got \(String(describing: denied))")
                return
            }
            #expect(reason.contains("refused access"))
            Self.expectNoSecrets(in: denied, key: key, wrapped: wrapped)
        }
    }

    @Test func stoppedPluginIsUnavailableWithinTheDeadlineAndServesAgainAfterRestart() async throws {
        let callTimeout = Duration.seconds(2)
        try await withPlugin(callTimeout: callTimeout) { server, provider in
            let key = DataEncryptionKey.generate()
            let wrapped = try provider.wrap(key)
            await server.stop()
            Self.expectUnavailable(
                within: callTimeout, saying: "no socket at \(server.socketPath); is the KMS plugin running?",
                key: key, wrapped: wrapped
            ) { try provider.unwrap(wrapped) }
            try await server.stopLeavingStaleSocket()
            Self.expectUnavailable(
                within: callTimeout, saying: "did not answer (connection refused or closed)", key: key, wrapped: wrapped
            ) { try provider.wrap(key) }

            try await server.start()
            var unwrapped: DataEncryptionKey?
            for _ in 0..<50 where unwrapped == nil {
                unwrapped = try? provider.unwrap(wrapped)
                if unwrapped == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(unwrapped?.hasSameBytes(as: key) == true, "the provider reconnects to the restarted plugin")
            #expect(try provider.status().keyID == "key-1")
        }
    }

    @Test func slowPluginIsUnavailableAtTheDeadline() async throws {
        let callTimeout = Duration.milliseconds(300)
        try await withPlugin(callTimeout: callTimeout) { server, provider in
            server.behaviour.delay = .seconds(1)
            let started = ContinuousClock.now
            let error = Self.failure { try provider.wrap(.generate()) }
            #expect(ContinuousClock.now - started < .seconds(2))
            guard case .unavailable(_, let reason) = error else {
                Issue.record("expected unavailable, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("did not answer within"))
            server.behaviour.delay = .zero
            #expect(throws: Never.self) { try provider.wrap(.generate()) }
        }
    }

    @Test func unhealthyPluginIsRefusedAtStart() async throws {
        try await withServer { server in
            server.behaviour.healthz = "down: cannot reach the KMS\n"
            let error = Self.failure { try KMSPluginKEKProvider(uri: server.uri) }
            guard case .unavailable(_, let reason) = error else {
                Issue.record("expected unavailable, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("unhealthy: healthz 'down: cannot reach the KMS?'"))
        }
    }

    @Test func pluginOfAnotherAPIVersionIsRefusedAtStart() async throws {
        try await withServer { server in
            server.behaviour.version = "v1beta1"
            let error = Self.failure { try KMSPluginKEKProvider(uri: server.uri) }
            guard case .misconfigured(_, let reason) = error else {
                Issue.record("expected misconfigured, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("'v1beta1', not v2"))
            server.behaviour.version = "v2beta1"
            let provider = try KMSPluginKEKProvider(uri: server.uri)
            defer { provider.shutdown() }
            #expect(try provider.status().version == "v2beta1")
            server.behaviour.version = "v2"
            let changed = Self.failure { try provider.status() }
            #expect(changed.map { !$0.isTransient } == true, "the version may not change")
        }
    }

    @Test func missingSocketIsAClearError() throws {
        let path = NSTemporaryDirectory() + "kmsplugin-missing-\(UUID().uuidString.prefix(8)).sock"
        let started = ContinuousClock.now
        let error = Self.failure { try KMSPluginKEKProvider(uri: KEKURI("kms-plugin:unix://\(path)")) }
        #expect(ContinuousClock.now - started < .seconds(3))
        guard case .unavailable(let provider, let reason) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(provider == "kms-plugin:unix://\(path)")
        #expect(reason.contains("no socket at \(path); is the KMS plugin running?"))
    }

    @Test func pathThatIsNotASocketIsMisconfigured() throws {
        let path = NSTemporaryDirectory() + "kmsplugin-file-\(UUID().uuidString.prefix(8))"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = Self.failure { try KMSPluginKEKProvider(uri: KEKURI("kms-plugin:unix://\(path)")) }
        #expect(error == .misconfigured(provider: "kms-plugin:unix://\(path)", reason: "\(path) is not a unix socket"))
    }

    @Test func uriMustNameAnAbsoluteUnixSocketAndNoOptions() throws {
        for body in ["/tmp/plugin.sock", "unix://relative.sock", "unix:/tmp/plugin.sock", "tcp://127.0.0.1:1"] {
            let error = Self.failure { try KMSPluginKEKProvider(uri: KEKURI("kms-plugin:\(body)")) }
            guard case .misconfigured = error else {
                Issue.record("\(body): expected misconfigured, got \(String(describing: error))")
                continue
            }
        }
        let longPath = "/tmp/" + String(repeating: "p", count: KMSPluginKEKProvider.maxSocketPathBytes)
        #expect(Self.failure { try KMSPluginKEKProvider(uri: KEKURI("kms-plugin:unix://\(longPath)")) } != nil)
        #expect(throws: KEKURIError.unknownOptions(scheme: "kms-plugin", names: ["timeout"])) {
            try KMSPluginKEKProvider(uri: KEKURI("kms-plugin:unix:///tmp/plugin.sock?timeout=1s"))
        }
    }

    @Test func concurrentCallsSucceed() async throws {
        // A deadline far above any wait: this checks that concurrent calls all complete, not how fast (a loaded
        // 2-core machine running the whole suite once timed two of them out at 2 s).
        try await withPlugin(callTimeout: .seconds(60)) { server, provider in
            let threads = 16
            let failures = Mutex(0)
            try await BlockingWork.run {  // concurrentPerform blocks its caller until every call is done
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    let key = DataEncryptionKey.generate()
                    let ok = (try? provider.unwrap(provider.wrap(key)))?.hasSameBytes(as: key) == true
                    if !ok { failures.withLock { $0 += 1 } }
                }
            }
            // Calls made from cooperative threads, more of them than the pool has threads, still complete: the
            // provider's work runs on its own queue.
            let tasks = ProcessInfo.processInfo.activeProcessorCount * 4
            let blocked = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        let key = DataEncryptionKey.generate()
                        return (try? provider.unwrap(provider.wrap(key)))?.hasSameBytes(as: key) == true
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
            #expect(failures.withLock { $0 } == 0)
            #expect(blocked == 0)
            let uids = server.requestUIDs
            #expect(uids.count == 2 * (threads + tasks) && Set(uids).count == uids.count)
        }
    }

    @Test func shutDownProviderRefusesCalls() async throws {
        try await withPlugin { _, provider in
            provider.shutdown()
            provider.shutdown()
            let error = Self.failure { try provider.wrap(.generate()) }
            #expect(error == .unavailable(provider: provider.providerName, reason: "the provider was shut down"))
        }
    }
}

extension KMSPluginKEKProviderTests {
    /// Runs `body` with a started plugin; stops it and removes its directory afterwards.
    func withServer(_ body: (KMSPluginTestServer) async throws -> Void) async throws {
        let server = try KMSPluginTestServer()
        do {
            try await server.start()
            try await body(server)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    /// Runs `body` with a started plugin and a provider connected to it; stops both afterwards.
    func withPlugin(
        callTimeout: Duration = KMSPluginKEKProvider.defaultCallTimeout,
        _ body: (KMSPluginTestServer, KMSPluginKEKProvider) async throws -> Void
    ) async throws {
        try await withServer { server in
            let provider = try KMSPluginKEKProvider(uri: server.uri, callTimeout: callTimeout)
            defer { provider.shutdown() }
            try await body(server, provider)
        }
    }

    /// The provider error `body` throws; records an issue when it throws nothing or something else.
    static func failure(_ body: () throws -> some Any) -> KEKProviderError? {
        do {
            _ = try body()
            Issue.record("expected an error")
        } catch let error as KEKProviderError {
            return error
        } catch {
            Issue.record("expected a KEKProviderError, got \(error)")
        }
        return nil
    }

    /// Expects `body` to fail as unavailable, sooner than `deadline` plus a second, with a reason saying `text`.
    static func expectUnavailable(
        within deadline: Duration, saying text: String, key: DataEncryptionKey, wrapped: [UInt8],
        _ body: () throws -> some Any, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let started = ContinuousClock.now
        let error = failure(body)
        #expect(ContinuousClock.now - started < deadline + .seconds(1), sourceLocation: sourceLocation)
        guard case .unavailable(_, let reason) = error else {
            Issue.record("expected unavailable, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(reason.contains(text), "\(reason)", sourceLocation: sourceLocation)
        expectNoSecrets(in: error, key: key, wrapped: wrapped)
    }

    static func expectNoSecrets(in error: KEKProviderError?, key: DataEncryptionKey, wrapped: [UInt8]) {
        guard let description = error?.description else { return }
        for secret in [bytes(of: key), wrapped] {
            let hex = secret.map { String(format: "%02x", $0) }.joined()
            #expect(!description.lowercased().contains(hex))
            #expect(!description.contains(secret.map { String(format: "%02X", $0) }.joined()))
            #expect(!description.contains(Data(secret).base64EncodedString()))
        }
    }

    static func bytes(of key: DataEncryptionKey) -> [UInt8] {
        key.secret.withUnsafeBytes { Array($0) }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
