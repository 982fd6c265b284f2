import Dispatch
import Encryption
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import KMSPluginAPI
import Synchronization

/// Wraps DEKs with a Kubernetes KMS v2 plugin reached over a unix socket: `kms-plugin:unix:///PATH`.
///
/// Any plugin written for kube-apiserver (cloud KMS, Vault, HSM) works unchanged: the provider is a client of
/// the plugin's gRPC service `v2.KeyManagementService` (`Status`, `Encrypt`, `Decrypt`), plaintext HTTP/2 over
/// the socket, as kube-apiserver is. A wrap sends the DEK's 32 bytes to `Encrypt`; an unwrap sends back what
/// `Encrypt` returned to `Decrypt`. Each request carries a fresh random UUID as its `uid`, and errors quote it
/// so an operator can find the request in the plugin's log.
///
/// **Health and key rotation.** The initializer calls `Status` and refuses a plugin that is not healthy
/// (healthz other than `ok`), does not speak version `v2` (or `v2beta1`, which Kubernetes also accepts) or has
/// no key id, so a wrong socket fails at start-up with a clear error. ``status()`` and ``probe()`` ask again; as
/// in Kubernetes the version may not change afterwards. ``currentKeyID()`` is the key id of the last healthy
/// `Status`: when the plugin rotates its key it changes, and a wrap whose ``keyID(ofWrapped:)`` differs from it was
/// made under an older key (plugins keep old keys able to decrypt). ``lastWrapKeyID()`` is the key id the last
/// `Encrypt` reported.
///
/// **Wrapped bytes**, byte for byte (all lengths are unsigned 16-bit big-endian; no trailing bytes):
///
///     1 byte   format version, 0x01
///     2 bytes  K, the length of the key id (1...1024)
///     K bytes  the key id `Encrypt` returned, UTF-8
///     2 bytes  N, the number of annotations
///     N times, in increasing order of the names' UTF-8 bytes, no name twice:
///       2 bytes  the name's length (1...253), then the name, UTF-8
///       2 bytes  the value's length, then the value
///     2 bytes  C, the length of the ciphertext (1...1024)
///     C bytes  the ciphertext `Encrypt` returned
///
/// Names and values together are at most 32 KiB. The limits are Kubernetes' own, so a plugin that works with
/// kube-apiserver fits; an `Encrypt` answer outside them is refused (``KEKProviderError/rejected(provider:reason:)``)
/// rather than stored. Bytes that do not parse are ``KEKProviderError/mismatch(provider:)`` without a call.
///
/// **Errors.** One attempt per call, bounded by ``callTimeout``; retries belong to a wrapper. What the plugin's
/// gRPC status codes mean here:
/// - socket missing, connection refused or closed, `UNAVAILABLE`, `DEADLINE_EXCEEDED` (or no answer in time),
///   `RESOURCE_EXHAUSTED`, `ABORTED`, `CANCELLED`, healthz not `ok`:
///   ``KEKProviderError/unavailable(provider:reason:)``.
/// - on `Decrypt`, `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `NOT_FOUND`, `OUT_OF_RANGE`, `DATA_LOSS`,
///   `ALREADY_EXISTS` (the plugin says these bytes, or their key id, are not its own), and a plaintext that is not
///   32 bytes: ``KEKProviderError/mismatch(provider:)``. On `Encrypt` the same codes are
///   ``KEKProviderError/rejected(provider:reason:)``: the request was a valid DEK.
/// - `UNKNOWN` and `INTERNAL` say nothing about the cause (many plugins return them for every failure). On
///   `Decrypt` the provider asks `Status` within the same deadline: a healthy plugin that cannot decrypt the bytes
///   is a mismatch, otherwise the failure is unavailable. On `Encrypt` and `Status` they are unavailable.
/// - `PERMISSION_DENIED`, `UNAUTHENTICATED`: rejected. `UNIMPLEMENTED` (not a KMS v2 plugin), a path that is not a
///   socket, a wrong API version or a bad key id: ``KEKProviderError/misconfigured(provider:reason:)``.
///
/// The plugin's own error messages are never quoted (they may repeat the request); healthz text is, shortened.
///
/// **Threads.** ``wrap(_:)``, ``unwrap(_:)-([UInt8])``, ``status()`` and ``shutdown()`` are synchronous: they
/// block the calling thread for at most ``callTimeout``, so call them only from threads that may block, never
/// from a NIO event loop. The gRPC client runs in a background task owned by the provider, started by the
/// initializer and stopped by ``shutdown()``; that task and each call's task run on the provider's own
/// Dispatch queue, not on Swift's cooperative pool, so a caller blocked on a cooperative thread cannot starve
/// the call it waits for.
///
/// **Secrets.** The DEK goes to the plugin in a buffer this provider zeroes when gRPC releases it; the plaintext
/// `Decrypt` returns is zeroed after it is copied into the key. Copies made inside gRPC and SwiftProtobuf while
/// (de)serialising cannot be reached.
public final class KMSPluginKEKProvider: KEKProvider, Sendable {
    /// What the plugin's last healthy `Status` said.
    public struct PluginStatus: Sendable, Hashable {
        /// The plugin API version (`v2` or `v2beta1`).
        public let version: String
        /// `ok`.
        public let healthz: String
        /// The key new wraps use.
        public let keyID: String
    }

    /// The URI scheme.
    public static let scheme = "kms-plugin"
    /// The per-call deadline used when none is given.
    public static let defaultCallTimeout: Duration = .seconds(5)
    /// The `Status` versions accepted, as kube-apiserver accepts them.
    public static let acceptedVersions: Set<String> = ["v2", "v2beta1"]
    /// The longest key id, in UTF-8 bytes (Kubernetes' limit).
    public static let maxKeyIDBytes = 1024
    /// The longest ciphertext (Kubernetes' limit for an encrypted DEK).
    public static let maxCiphertextBytes = 1024
    /// The most bytes of annotation names and values together (Kubernetes' limit).
    public static let maxAnnotationBytes = 32 * 1024
    /// The longest annotation name, in UTF-8 bytes (a DNS subdomain).
    public static let maxAnnotationNameBytes = 253
    /// The longest socket path: `sun_path` holds 104 bytes with its NUL on macOS, 108 on Linux.
    public static let maxSocketPathBytes = 103
    /// How much of an unhealthy plugin's healthz text an error quotes.
    static let maxQuotedHealthzCharacters = 200
    /// How the connection to a plugin that went away retries: from 100 ms, doubling up to 1 s, so a restarted
    /// plugin is found again within about a second.
    static let reconnectBackoff = HTTP2ClientTransport.Config.Backoff(
        initial: .milliseconds(100), max: .seconds(1), multiplier: 2, jitter: 0.2)

    /// The URI without its query: the kek id and the name errors use.
    public let providerName: String
    /// The plugin's unix socket.
    public let socketPath: String
    /// The deadline of one call.
    public let callTimeout: Duration

    private typealias Service = KMSv2_KeyManagementService.Client<HTTP2ClientTransport.Posix>

    private struct State {
        var lastStatus: PluginStatus?
        var firstVersion: String?
        var lastWrapKeyID: String?
        var isShutDown = false
    }

    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let service: Service
    private let executor: CallExecutor
    private let connections: Task<Void, Never>
    private let state = Mutex(State())

    /// Connects to the plugin named by `uri` and checks its `Status`.
    ///
    /// - Parameters:
    ///   - uri: `kms-plugin:unix:///ABSOLUTE/PATH`; the scheme takes no options.
    ///   - callTimeout: the deadline of each call to the plugin.
    /// - Throws: ``KEKURIError/unknownOptions(scheme:names:)`` for any option;
    ///   ``KEKProviderError/misconfigured(provider:reason:)`` for a body that is not `unix://` and an absolute path,
    ///   or an unusable plugin; ``KEKProviderError/unavailable(provider:reason:)`` when the socket is missing, the
    ///   plugin does not answer or is unhealthy.
    public init(uri: KEKURI, callTimeout: Duration = defaultCallTimeout) throws {
        precondition(uri.scheme == Self.scheme, "KMSPluginKEKProvider takes kms-plugin: URIs only")
        precondition(callTimeout > .zero, "callTimeout must be positive")
        let unknown = uri.unknownOptions(known: [])
        guard unknown.isEmpty else { throw KEKURIError.unknownOptions(scheme: uri.scheme, names: unknown) }
        let name = uri.withoutQuery
        let path = try Self.socketPath(in: uri.body, provider: name)
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try .http2NIOPosix(
                target: .unixDomainSocket(path: path), transportSecurity: .plaintext,
                config: .defaults { $0.backoff = Self.reconnectBackoff })
        } catch {
            throw KEKProviderError.misconfigured(provider: name, reason: "no gRPC transport for a unix socket")
        }
        let client = GRPCClient(transport: transport)
        let executor = CallExecutor()
        providerName = name
        socketPath = path
        self.callTimeout = callTimeout
        self.client = client
        service = Service(wrapping: client)
        self.executor = executor
        connections = Task(executorPreference: executor) { try? await client.runConnections() }
        do { _ = try status() } catch {
            shutdown()
            throw error
        }
    }

    deinit {
        client.beginGracefulShutdown()
    }

    /// Asks the plugin for its `Status` and records it (see ``currentKeyID()``).
    ///
    /// - Throws: ``KEKProviderError/unavailable(provider:reason:)`` when the plugin does not answer or its healthz
    ///   is not `ok`; ``KEKProviderError/misconfigured(provider:reason:)`` for a version other than `v2`/`v2beta1`,
    ///   a version that changed since the first `Status`, or an empty or oversized key id.
    @discardableResult
    public func status() throws(KEKProviderError) -> PluginStatus {
        try status(deadline: .now + callTimeout)
    }

    /// Asks `Status` so ``currentKeyID()`` follows a key rotation while no wrap or unwrap needs the plugin; a
    /// failure is not reported here (the next call reports it). Blocks for at most ``callTimeout``.
    public func probe() {
        _ = try? status()
    }

    /// The key id of the last healthy `Status`: the key the plugin encrypts new DEKs with.
    public func currentKeyID() -> String? {
        state.withLock { $0.lastStatus?.keyID }
    }

    /// The key id the plugin reported for the last successful wrap.
    public func lastWrapKeyID() -> String? {
        state.withLock { $0.lastWrapKeyID }
    }

    /// The key id recorded in bytes made by ``wrap(_:)``; compare it with ``currentKeyID()`` to find wraps made
    /// under an older key.
    ///
    /// - Throws: ``KEKProviderError/mismatch(provider:)`` when the bytes are not this provider's format.
    public func keyID(ofWrapped wrapped: [UInt8]) throws(KEKProviderError) -> String {
        guard let form = WrappedForm(decoding: wrapped) else { throw .mismatch(provider: providerName) }
        return form.keyID
    }

    /// Stops the gRPC client: waits up to ``callTimeout`` for calls in flight, then cancels them. Later calls fail
    /// as unavailable. Blocks the calling thread; calling it again does nothing.
    public func shutdown() {
        let first = state.withLock { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        guard first else { return }
        client.beginGracefulShutdown()
        let connections = self.connections
        let stopped = PendingCall<Void>()
        Task(executorPreference: executor) {
            await connections.value
            stopped.finish(.success(()))
        }
        if stopped.wait(until: .now + callTimeout) == nil { connections.cancel() }
    }

    /// Has the plugin's `Encrypt` wrap `key` and returns its answer in the stored form (see the type).
    ///
    /// - Throws: ``KEKProviderError``: unavailable, rejected (including an answer outside Kubernetes' limits) or
    ///   misconfigured, as the type's documentation maps them.
    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        let uid = Self.freshUID()
        let plaintext = Self.zeroedOnRelease(key)
        let response = try call(.encrypt, uid: uid, deadline: .now + callTimeout) { service, options in
            var request = KMSv2_EncryptRequest()
            request.plaintext = plaintext
            request.uid = uid
            return try await service.encrypt(request, options: options)
        }
        let form = WrappedForm(
            keyID: response.keyID,
            annotations: response.annotations.map { WrappedForm.Annotation(name: $0.key, value: [UInt8]($0.value)) },
            ciphertext: [UInt8](response.ciphertext))
        if let problem = form.problem {
            throw KEKProviderError.rejected(
                provider: providerName,
                reason: "the plugin's Encrypt answer (request uid \(uid)) is unusable: \(problem)")
        }
        state.withLock { $0.lastWrapKeyID = form.keyID }
        return form.encoded()
    }

    /// Has the plugin's `Decrypt` unwrap bytes made by ``wrap(_:)``, with the key id and annotations they record.
    ///
    /// - Throws: ``KEKProviderError/mismatch(provider:)`` for bytes that are not a wrap of this format, that the
    ///   plugin says are not its own, or that do not decrypt to 32 bytes; otherwise as the type's documentation
    ///   maps the plugin's answer.
    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        guard let form = WrappedForm(decoding: wrapped) else { throw KEKProviderError.mismatch(provider: providerName) }
        let uid = Self.freshUID()
        var plaintext = try call(.decrypt, uid: uid, deadline: .now + callTimeout) { service, options in
            var request = KMSv2_DecryptRequest()
            request.ciphertext = Data(form.ciphertext)
            request.uid = uid
            request.keyID = form.keyID
            request.annotations = Dictionary(uniqueKeysWithValues: form.annotations.map { ($0.name, Data($0.value)) })
            return try await service.decrypt(request, options: options).plaintext
        }
        defer { plaintext.resetBytes(in: plaintext.startIndex..<plaintext.endIndex) }
        guard plaintext.count == DataEncryptionKey.byteCount else {
            throw KEKProviderError.mismatch(provider: providerName)
        }
        return try DataEncryptionKey(bytes: plaintext)
    }
}

extension KMSPluginKEKProvider {
    /// The three methods of the plugin service, named as on the wire.
    enum Method: String {
        case status = "Status"
        case encrypt = "Encrypt"
        case decrypt = "Decrypt"
    }

    /// `Status` with an explicit deadline, validated and recorded.
    private func status(deadline: ContinuousClock.Instant) throws(KEKProviderError) -> PluginStatus {
        let response = try call(.status, uid: nil, deadline: deadline) { service, options in
            try await service.status(KMSv2_StatusRequest(), options: options)
        }
        guard response.healthz == "ok" else {
            throw .unavailable(
                provider: providerName,
                reason: "the plugin at \(socketPath) reports it is unhealthy: healthz \(Self.quoted(response.healthz))")
        }
        guard Self.acceptedVersions.contains(response.version) else {
            throw .misconfigured(
                provider: providerName,
                reason: "the plugin speaks KMS API version \(Self.quoted(response.version)), not v2 (or v2beta1)")
        }
        let keyIDBytes = response.keyID.utf8.count
        guard (1...Self.maxKeyIDBytes).contains(keyIDBytes) else {
            throw .misconfigured(
                provider: providerName,
                reason: "the plugin's Status has a key_id of \(keyIDBytes) bytes (1 to \(Self.maxKeyIDBytes) expected)")
        }
        let status = PluginStatus(version: response.version, healthz: response.healthz, keyID: response.keyID)
        let firstVersion = state.withLock { state in
            if state.firstVersion == nil { state.firstVersion = status.version }
            if state.firstVersion == status.version { state.lastStatus = status }
            return state.firstVersion ?? status.version
        }
        guard firstVersion == status.version else {
            throw .misconfigured(
                provider: providerName,
                reason: "the plugin's API version changed from \(firstVersion) to \(Self.quoted(status.version)); "
                    + "restart the node to accept it")
        }
        return status
    }

    /// Runs `body` against the plugin on the provider's executor and blocks until it ends or `deadline` passes.
    private func call<Response: Sendable>(
        _ method: Method, uid: String?, deadline: ContinuousClock.Instant,
        _ body: @escaping @Sendable (Service, CallOptions) async throws -> Response
    ) throws(KEKProviderError) -> Response {
        guard !state.withLock({ $0.isShutDown }) else {
            throw .unavailable(provider: providerName, reason: "the provider was shut down")
        }
        let remaining = deadline - .now
        guard remaining > .zero else { throw timedOut(method, uid: uid) }
        var options = CallOptions.defaults
        options.timeout = remaining
        // Fail at once while the socket refuses connections instead of queueing until the deadline.
        options.waitForReady = false
        let pending = PendingCall<Response>()
        let service = self.service
        let task = Task(executorPreference: executor) {
            do { pending.finish(.success(try await body(service, options))) } catch { pending.finish(.failure(error)) }
        }
        guard let outcome = pending.wait(until: deadline) else {
            task.cancel()
            throw timedOut(method, uid: uid)
        }
        switch outcome {
        case .success(let response): return response
        case .failure(let error): throw failure(error, in: method, uid: uid, deadline: deadline)
        }
    }

    /// What a failed call means (see the type's documentation for the mapping).
    private func failure(_ error: any Error, in method: Method, uid: String?, deadline: ContinuousClock.Instant)
        -> KEKProviderError
    {
        let request = method.rawValue + (uid.map { " (request uid \($0))" } ?? "")
        guard let rpc = error as? RPCError else { return unreachable(request, code: nil) }
        switch rpc.code {
        case .unavailable, .cancelled, .aborted, .resourceExhausted:
            return unreachable(request, code: rpc.code)
        case .deadlineExceeded:
            return timedOut(method, uid: uid)
        case .unimplemented:
            return .misconfigured(
                provider: providerName,
                reason: "the server on \(socketPath) does not implement v2.KeyManagementService/\(method.rawValue); "
                    + "is it a KMS v2 plugin?")
        case .permissionDenied, .unauthenticated:
            return .rejected(
                provider: providerName, reason: "\(request): the plugin was refused access to its key (\(rpc.code))")
        case .invalidArgument, .failedPrecondition, .notFound, .outOfRange, .dataLoss, .alreadyExists:
            guard method == .decrypt else {
                return .rejected(provider: providerName, reason: "\(request): the plugin refused it (\(rpc.code))")
            }
            return .mismatch(provider: providerName)
        default:
            // UNKNOWN or INTERNAL: a healthy plugin that cannot decrypt is refusing the bytes, not failing.
            guard method == .decrypt, (try? status(deadline: deadline)) != nil else {
                return .unavailable(provider: providerName, reason: "\(request) failed in the plugin (\(rpc.code))")
            }
            return .mismatch(provider: providerName)
        }
    }

    /// A call that got no answer from the plugin, explained by what is at the socket path.
    private func unreachable(_ request: String, code: RPCError.Code?) -> KEKProviderError {
        let detail = code.map { " (\($0))" } ?? ""
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: socketPath, isDirectory: &isDirectory) else {
            return .unavailable(
                provider: providerName, reason: "\(request): no socket at \(socketPath); is the KMS plugin running?")
        }
        let type = try? FileManager.default.attributesOfItem(atPath: socketPath)[.type] as? FileAttributeType
        guard type == .typeSocket else {
            return .misconfigured(provider: providerName, reason: "\(socketPath) is not a unix socket")
        }
        let answer = "the KMS plugin at \(socketPath) did not answer (connection refused or closed)"
        return .unavailable(provider: providerName, reason: "\(request): \(answer)\(detail)")
    }

    private func timedOut(_ method: Method, uid: String?) -> KEKProviderError {
        let request = method.rawValue + (uid.map { " (request uid \($0))" } ?? "")
        return .unavailable(
            provider: providerName,
            reason: "\(request): the KMS plugin at \(socketPath) did not answer within \(callTimeout)")
    }

    /// The socket path of `unix:///PATH`.
    private static func socketPath(in body: String, provider: String) throws(KEKProviderError) -> String {
        let prefix = "unix://"
        guard body.hasPrefix(prefix), body.dropFirst(prefix.count).hasPrefix("/") else {
            throw .misconfigured(provider: provider, reason: "the plugin must be named unix:///ABSOLUTE/PATH")
        }
        let path = String(body.dropFirst(prefix.count))
        guard path.utf8.count <= maxSocketPathBytes else {
            throw .misconfigured(
                provider: provider, reason: "the socket path is longer than \(maxSocketPathBytes) bytes")
        }
        return path
    }

    /// A fresh request uid: a random UUID, lower-case as Kubernetes sends it.
    private static func freshUID() -> String {
        UUID().uuidString.lowercased()
    }

    /// The DEK's bytes as `Data` in a buffer that is zeroed and freed when the last reference goes away.
    private static func zeroedOnRelease(_ key: DataEncryptionKey) -> Data {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DataEncryptionKey.byteCount, alignment: 1)
        key.secret.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return Data(
            bytesNoCopy: buffer.baseAddress!, count: buffer.count,
            deallocator: .custom { pointer, count in
                SecretBytes.zero(UnsafeMutableRawBufferPointer(start: pointer, count: count))
                pointer.deallocate()
            })
    }

    /// Plugin text for an error: printable ASCII only, shortened.
    private static func quoted(_ text: String) -> String {
        let printable = text.unicodeScalars.prefix(maxQuotedHealthzCharacters).map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F ? Character(scalar) : "?"
        }
        let ellipsis = text.unicodeScalars.count > maxQuotedHealthzCharacters ? "…" : ""
        return "'\(String(printable))\(ellipsis)'"
    }
}

extension KMSPluginKEKProvider {
    /// Runs the provider's async work on one Dispatch queue instead of Swift's cooperative pool, which the
    /// threads blocked in wrap and unwrap may occupy.
    private final class CallExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "elastickv.kek.kms-plugin")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    /// One call's outcome, handed from its task to the blocked caller.
    private final class PendingCall<Value: Sendable>: Sendable {
        private let outcome = Mutex<Result<Value, any Error>?>(nil)
        private let finished = DispatchSemaphore(value: 0)

        func finish(_ result: Result<Value, any Error>) {
            outcome.withLock { $0 = result }
            finished.signal()
        }

        /// The outcome, taken out (so the caller holds the only reference), or nil when `deadline` passed first.
        func wait(until deadline: ContinuousClock.Instant) -> Result<Value, any Error>? {
            let parts = max(deadline - .now, .zero).components
            let nanoseconds = parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
            guard finished.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return nil }
            return outcome.withLock { taken in
                defer { taken = nil }
                return taken
            }
        }
    }
}

extension KMSPluginKEKProvider {
    /// What one wrap stores: the `Encrypt` answer that `Decrypt` needs back, in the byte format the provider's
    /// documentation gives.
    struct WrappedForm: Equatable {
        /// The first byte of every wrap.
        static let formatVersion: UInt8 = 1

        struct Annotation: Equatable {
            var name: String
            var value: [UInt8]
        }

        var keyID: String
        /// Sorted by the names' UTF-8 bytes.
        var annotations: [Annotation]
        var ciphertext: [UInt8]

        /// A form of these parts, the annotations sorted.
        init(keyID: String, annotations: [Annotation], ciphertext: [UInt8]) {
            self.keyID = keyID
            self.annotations = annotations.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            self.ciphertext = ciphertext
        }

        /// Why these parts cannot be stored (Kubernetes' limits), or nil when they can.
        var problem: String? {
            if !(1...maxKeyIDBytes).contains(keyID.utf8.count) {
                return "its key_id has \(keyID.utf8.count) bytes (1 to \(maxKeyIDBytes) allowed)"
            }
            if !(1...maxCiphertextBytes).contains(ciphertext.count) {
                return "its ciphertext has \(ciphertext.count) bytes (1 to \(maxCiphertextBytes) allowed)"
            }
            if annotations.contains(where: { !(1...maxAnnotationNameBytes).contains($0.name.utf8.count) }) {
                return "an annotation name is empty or longer than \(maxAnnotationNameBytes) bytes"
            }
            let total = annotations.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
            if total > maxAnnotationBytes {
                return "its annotations have \(total) bytes (at most \(maxAnnotationBytes) allowed)"
            }
            return nil
        }

        /// The stored bytes. The parts must be within the limits (``problem`` is nil).
        func encoded() -> [UInt8] {
            precondition(problem == nil, "only a valid Encrypt answer is encoded")
            var bytes: [UInt8] = [Self.formatVersion]
            func append(_ part: some Collection<UInt8>) {
                bytes.append(UInt8(part.count >> 8))
                bytes.append(UInt8(part.count & 0xFF))
                bytes.append(contentsOf: part)
            }
            append(keyID.utf8)
            bytes.append(UInt8(annotations.count >> 8))
            bytes.append(UInt8(annotations.count & 0xFF))
            for annotation in annotations {
                append(annotation.name.utf8)
                append(annotation.value)
            }
            append(ciphertext)
            return bytes
        }

        /// Parses stored bytes; nil unless they are exactly a valid form (version, limits, order, no trailing bytes).
        init?(decoding bytes: [UInt8]) {
            var reader = Reader(bytes: bytes)
            guard reader.byte() == Self.formatVersion, let keyID = reader.text(), let count = reader.length()
            else { return nil }
            var annotations: [Annotation] = []
            for _ in 0..<count {
                guard let name = reader.text(), let value = reader.chunk() else { return nil }
                if let previous = annotations.last, !previous.name.utf8.lexicographicallyPrecedes(name.utf8) {
                    return nil
                }
                annotations.append(Annotation(name: name, value: value))
            }
            guard let ciphertext = reader.chunk(), reader.isAtEnd else { return nil }
            self.init(keyID: keyID, annotations: annotations, ciphertext: ciphertext)
            guard problem == nil else { return nil }
        }

        /// Reads the big-endian lengths and length-prefixed parts of a form.
        private struct Reader {
            let bytes: [UInt8]
            var offset = 0

            var isAtEnd: Bool { offset == bytes.count }

            mutating func byte() -> UInt8? {
                guard offset < bytes.count else { return nil }
                defer { offset += 1 }
                return bytes[offset]
            }

            mutating func length() -> Int? {
                guard let high = byte(), let low = byte() else { return nil }
                return Int(high) << 8 | Int(low)
            }

            mutating func chunk() -> [UInt8]? {
                guard let count = length(), count <= bytes.count - offset else { return nil }
                defer { offset += count }
                return Array(bytes[offset..<offset + count])
            }

            mutating func text() -> String? {
                chunk().flatMap { String(validating: $0, as: UTF8.self) }
            }
        }
    }
}
