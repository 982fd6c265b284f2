import Dispatch
import Encryption
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import KMSPluginAPI
import Synchronization

/// A Kubernetes KMS v2 plugin for the tests, serving `v2.KeyManagementService` on a unix socket in a fresh
/// temporary directory.
///
/// It encrypts with AES-256-GCM under an in-memory key per key id (`key-1`, `key-2`, …); the ciphertext is
/// nonce ‖ sealed bytes ‖ tag and authenticates the key id and the `version.test` annotation, which names the
/// key's generation. Switches let a test rotate to a new key id (old ones still decrypt), report a healthz other
/// than `ok` or another API version, fail every Decrypt with a chosen code, delay every answer, and stop and
/// start the server on the same socket path. It records the uid of every request.
///
/// A real plugin is another process; this one runs its server task and handlers on a Dispatch queue of its own,
/// so a test that blocks Swift's cooperative threads with synchronous provider calls does not stop it answering.
final class KMSPluginTestServer: Sendable {
    /// What the plugin does; changed by the tests while it serves.
    struct Behaviour: Sendable {
        var healthz = "ok"
        var version = "v2"
        /// When set, every Decrypt fails with this code.
        var decryptFailure: RPCError.Code?
        /// When set, every Encrypt fails with this code.
        var encryptFailure: RPCError.Code?
        /// How long every answer waits.
        var delay: Duration = .zero
    }

    private struct Keys {
        var ciphers: [String: AESGCMCipher] = [:]
        var currentKeyID = ""
        var generation = 0
        var uids: [String] = []
    }

    /// The longest a start waits for the listener.
    static let startTimeout: Duration = .seconds(10)

    let directory: String
    let socketPath: String
    private let executor = QueueExecutor()
    private let keys = Mutex(Keys())
    private let behaviourState = Mutex(Behaviour())
    private let running = Mutex<(server: GRPCServer<HTTP2ServerTransport.Posix>, task: Task<Void, Never>)?>(nil)

    /// Makes the temporary directory and the first key (`key-1`); call ``start()`` to serve.
    init() throws {
        var template = Array("\(NSTemporaryDirectory())kmsplugin.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        directory = String(cString: made)
        socketPath = directory + "/plugin.sock"
        rotate()
    }

    var behaviour: Behaviour {
        get { behaviourState.withLock { $0 } }
        set { behaviourState.withLock { $0 = newValue } }
    }

    /// The `kms-plugin:` URI of this server.
    var uri: KEKURI { try! KEKURI("kms-plugin:unix://\(socketPath)") }

    /// The key id new Encrypt calls use.
    var currentKeyID: String { keys.withLock { $0.currentKeyID } }

    /// The uid of every Encrypt and Decrypt request so far, in order.
    var requestUIDs: [String] { keys.withLock { $0.uids } }

    /// Switches to a fresh key with the next key id; returns that id.
    @discardableResult
    func rotate() -> String {
        keys.withLock { keys in
            keys.generation += 1
            keys.currentKeyID = "key-\(keys.generation)"
            keys.ciphers[keys.currentKeyID] = AESGCMCipher(key: .generate())
            return keys.currentKeyID
        }
    }

    /// Serves on ``socketPath`` until ``stop()``; returns once the socket is listening.
    func start() async throws {
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext),
            services: [Handler(plugin: self)])
        let task = Task(executorPreference: executor) { _ = try? await server.serve() }
        running.withLock { $0 = (server, task) }
        let deadline = ContinuousClock.now + Self.startTimeout
        while (try? await server.transport.listeningAddress) == nil {
            guard ContinuousClock.now < deadline else { throw CocoaError(.fileWriteUnknown) }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops serving and waits until the server is down; the server removes its socket file.
    func stop() async {
        let current = running.withLock { current in
            defer { current = nil }
            return current
        }
        guard let (server, task) = current else { return }
        server.beginGracefulShutdown()
        await task.value
    }

    /// Stops serving and leaves a socket file that nothing listens on, so connections to it are refused.
    func stopLeavingStaleSocket() async throws {
        await stop()
        #if os(Linux)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        #if canImport(Glibc)
            defer { Glibc.close(descriptor) }
        #else
            defer { Darwin.close(descriptor) }
        #endif
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: socketPath.utf8.prefix(path.count - 1))
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Stops the server and removes its directory.
    func close() async {
        await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    fileprivate func record(_ uid: String) {
        keys.withLock { $0.uids.append(uid) }
    }

    fileprivate func encrypt(_ plaintext: [UInt8]) -> (keyID: String, generation: String, ciphertext: [UInt8]) {
        let (keyID, generation, cipher) = keys.withLock { keys in
            (keys.currentKeyID, String(keys.generation), keys.ciphers[keys.currentKeyID]!)
        }
        var nonce = [UInt8](repeating: 0, count: AESGCMCipher.nonceByteCount)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        var sealed = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: AESGCMCipher.tagByteCount)
        let aad = Self.aad(keyID: keyID, generation: Array(generation.utf8))
        plaintext.withUnsafeBytes { input in
            nonce.withUnsafeBytes { nonceBytes in
                aad.withUnsafeBytes { aadBytes in
                    sealed.withUnsafeMutableBytes { output in
                        tag.withUnsafeMutableBytes { tagBytes in
                            try! cipher.seal(
                                input, nonce: nonceBytes, authenticating: aadBytes, ciphertext: output, tag: tagBytes)
                        }
                    }
                }
            }
        }
        return (keyID, generation, nonce + sealed + tag)
    }

    /// The plaintext, or the gRPC code the plugin answers with.
    fileprivate func decrypt(_ ciphertext: [UInt8], keyID: String, generation: [UInt8]?) -> Result<[UInt8], RPCError> {
        guard let cipher = keys.withLock({ $0.ciphers[keyID] }) else {
            return .failure(RPCError(code: .notFound, message: "unknown key id"))
        }
        let overhead = AESGCMCipher.nonceByteCount + AESGCMCipher.tagByteCount
        guard let generation, ciphertext.count > overhead else {
            return .failure(RPCError(code: .invalidArgument, message: "malformed ciphertext"))
        }
        let nonce = Array(ciphertext.prefix(AESGCMCipher.nonceByteCount))
        let tag = Array(ciphertext.suffix(AESGCMCipher.tagByteCount))
        let sealed = Array(ciphertext.dropFirst(AESGCMCipher.nonceByteCount).dropLast(AESGCMCipher.tagByteCount))
        var plaintext = [UInt8](repeating: 0, count: sealed.count)
        let aad = Self.aad(keyID: keyID, generation: generation)
        let opened: Bool = sealed.withUnsafeBytes { input in
            nonce.withUnsafeBytes { nonceBytes in
                aad.withUnsafeBytes { aadBytes in
                    tag.withUnsafeBytes { tagBytes in
                        plaintext.withUnsafeMutableBytes { output in
                            (try? cipher.open(
                                input, tag: tagBytes, nonce: nonceBytes, authenticating: aadBytes, into: output))
                                != nil
                        }
                    }
                }
            }
        }
        guard opened else { return .failure(RPCError(code: .invalidArgument, message: "authentication failed")) }
        return .success(plaintext)
    }

    private static func aad(keyID: String, generation: [UInt8]) -> [UInt8] {
        Array(keyID.utf8) + [0] + generation
    }
}

extension KMSPluginTestServer {
    /// Runs the server's tasks on one Dispatch queue.
    private final class QueueExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "elastickv.tests.kms-plugin-server")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    /// The annotation that carries the key's generation.
    static let annotationName = "version.test"

    /// The gRPC service, answering from the plugin's state.
    private struct Handler: KMSv2_KeyManagementService.SimpleServiceProtocol {
        let plugin: KMSPluginTestServer

        func status(request: KMSv2_StatusRequest, context: ServerContext) async throws -> KMSv2_StatusResponse {
            let behaviour = plugin.behaviour
            try await Task.sleep(for: behaviour.delay)
            var response = KMSv2_StatusResponse()
            response.version = behaviour.version
            response.healthz = behaviour.healthz
            response.keyID = plugin.currentKeyID
            return response
        }

        func encrypt(request: KMSv2_EncryptRequest, context: ServerContext) async throws -> KMSv2_EncryptResponse {
            plugin.record(request.uid)
            let behaviour = plugin.behaviour
            try await Task.sleep(for: behaviour.delay)
            if let code = behaviour.encryptFailure { throw RPCError(code: code, message: "encrypt failure switch") }
            let (keyID, generation, ciphertext) = plugin.encrypt([UInt8](request.plaintext))
            var response = KMSv2_EncryptResponse()
            response.ciphertext = Data(ciphertext)
            response.keyID = keyID
            response.annotations = [KMSPluginTestServer.annotationName: Data(generation.utf8)]
            return response
        }

        func decrypt(request: KMSv2_DecryptRequest, context: ServerContext) async throws -> KMSv2_DecryptResponse {
            plugin.record(request.uid)
            let behaviour = plugin.behaviour
            try await Task.sleep(for: behaviour.delay)
            if let code = behaviour.decryptFailure { throw RPCError(code: code, message: "decrypt failure switch") }
            let generation = request.annotations[KMSPluginTestServer.annotationName].map { [UInt8]($0) }
            switch plugin.decrypt([UInt8](request.ciphertext), keyID: request.keyID, generation: generation) {
            case .success(let plaintext):
                var response = KMSv2_DecryptResponse()
                response.plaintext = Data(plaintext)
                return response
            case .failure(let error):
                throw error
            }
        }
    }
}
