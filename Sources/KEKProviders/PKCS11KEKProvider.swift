import CPKCS11
import Dispatch
import DurableIO
import Encryption
import Synchronization

/// A KEK held in a PKCS #11 token (an HSM, a smart card, SoftHSM): DEKs are wrapped and unwrapped inside it.
///
/// URI (DESIGN §3.4, RFC 7512): `pkcs11:token=T;object=O?module-path=PATH&pin-source=file:PATH`. The path may
/// name the slot with `slot-id=N` instead of (or beside) `token=`, the key by its CKA_ID with `id=%XX…` instead
/// of (or beside) `object=`, and `type=secret-key`; any other attribute or option is refused, and so is a
/// `pin-value`. The PIN is read once, at construction, from the pin-source file (one trailing line break
/// dropped), which must not be accessible by group or others. The kek id is the URI without its query.
///
/// The key must be an AES secret key with CKA_WRAP (to wrap) and CKA_UNWRAP (to unwrap). A wrap imports the
/// DEK as a session object (CKA_TOKEN false, so never stored in the token), wraps it with
/// CKM_AES_KEY_WRAP_KWP (RFC 5649) or, when the token does not offer KWP, CKM_AES_KEY_WRAP (RFC 3394), and
/// destroys the object. An unwrap makes an extractable session object, reads its 32 bytes and destroys it.
/// Objects are destroyed on every path, errors included.
///
/// Wrapped bytes are one format byte naming the mechanism, then the token's output:
/// - `0x01`: CKM_AES_KEY_WRAP_KWP (0x210B);
/// - `0x02`: CKM_AES_KEY_WRAP (0x2109).
/// An unwrap uses the mechanism the byte names, whatever the token prefers today. Bytes the token refuses
/// (CKR_WRAPPED_KEY_INVALID, CKR_ENCRYPTED_DATA_INVALID, CKR_WRAPPED_KEY_LEN_RANGE, …, or SoftHSM2's
/// CKR_GENERAL_ERROR for a failed integrity check, once the session is seen to still answer), bytes that do not
/// unwrap to 32 bytes, and bytes with an unknown format byte are ``KEKProviderError/mismatch(provider:)``.
///
/// One session is opened on first use and reused; calls run one at a time on the provider's serial queue,
/// which is the lock around the session (PKCS #11 forbids concurrent use of one session). Each call waits at
/// most `deadline` for its turn and its answer, then fails with ``KEKProviderError/unavailable(provider:reason:)``;
/// a call stuck in the module finishes in the background and its result is dropped. When a call fails
/// because the session or the login was lost (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
/// CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR, a stale key handle),
/// the session is dropped and the call opens a new one, logs in and tries once more before failing. Error
/// reasons name the CKR constant; never the PIN, key bytes or wrapped bytes.
public final class PKCS11KEKProvider: KEKProvider {
    /// The kek id and the provider name in errors: the URI without its query.
    public let kekID: String
    /// How long one wrap or unwrap may take, waiting for the queue included.
    public let deadline: Duration
    private let queue: DispatchQueue
    private let connection: Connection

    /// What a wrapped key's first byte says about the mechanism that made it.
    enum WrapFormat: UInt8, CaseIterable, Sendable {
        case keyWrapWithPadding = 0x01
        case keyWrap = 0x02

        /// CKM_AES_KEY_WRAP_KWP, which the p11-kit header in use may predate.
        static let aesKeyWrapKWP: CK_MECHANISM_TYPE = 0x210B

        var mechanism: CK_MECHANISM_TYPE {
            switch self {
            case .keyWrapWithPadding: return Self.aesKeyWrapKWP
            case .keyWrap: return CK_MECHANISM_TYPE(CKM_AES_KEY_WRAP)
            }
        }

        var mechanismName: String {
            switch self {
            case .keyWrapWithPadding: return "CKM_AES_KEY_WRAP_KWP"
            case .keyWrap: return "CKM_AES_KEY_WRAP"
            }
        }
    }

    /// Parses `uri`, reads the PIN file and loads the module.
    ///
    /// - Parameters:
    ///   - uri: a `pkcs11:` URI.
    ///   - deadline: the longest one wrap or unwrap may take.
    ///   - fileSystem: where the PIN file is read (a simulated file system in tests).
    /// - Throws: ``KEKURIError`` for a malformed URI or option; ``KEKProviderError/misconfigured(provider:reason:)``
    ///   for a PIN file that is missing, empty, too large or accessible by group or others, and for a module
    ///   that cannot be loaded or initialised.
    public convenience init(
        uri: KEKURI, deadline: Duration = .seconds(5),
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws {
        try self.init(configuration: Configuration(uri: uri), deadline: deadline, fileSystem: fileSystem)
    }

    /// Reads the PIN file and loads the module of a parsed configuration.
    ///
    /// - Throws: ``KEKProviderError/misconfigured(provider:reason:)`` as ``init(uri:deadline:fileSystem:)``.
    public init(
        configuration: Configuration, deadline: Duration = .seconds(5),
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(KEKProviderError) {
        precondition(deadline > .zero, "a PKCS #11 provider needs a positive deadline")
        let pin = try Self.readPIN(configuration: configuration, fileSystem: fileSystem)
        let module: PKCS11Module
        do {
            module = try PKCS11Module.acquire(path: configuration.modulePath)
        } catch {
            throw .misconfigured(provider: configuration.kekID, reason: error.description)
        }
        kekID = configuration.kekID
        self.deadline = deadline
        queue = DispatchQueue(label: "elastickv.kek.pkcs11")
        connection = Connection(configuration: configuration, module: module, pin: pin)
    }

    deinit {
        queue.async { [connection] in connection.close() }
    }

    /// Wraps a DEK inside the token; the result starts with the format byte (see the type's documentation).
    ///
    /// - Throws: ``KEKProviderError``: `.unavailable` when the token is absent, failing or too slow,
    ///   `.misconfigured` for a refused PIN, a missing or unsuitable key or mechanism, `.rejected` otherwise.
    public func wrap(_ key: DataEncryptionKey) throws(KEKProviderError) -> [UInt8] {
        try perform { connection throws(KEKProviderError) in try connection.wrap(key) }
    }

    /// Unwraps bytes made by ``wrap(_:)`` under the same token key.
    ///
    /// - Throws: ``KEKProviderError/mismatch(provider:)`` when the bytes are not a wrap of this key (another
    ///   key, altered or foreign bytes), and the errors of ``wrap(_:)``.
    public func unwrap(_ wrapped: [UInt8]) throws(KEKProviderError) -> DataEncryptionKey {
        try perform { connection throws(KEKProviderError) in try connection.unwrap(wrapped) }
    }

    /// Closes the session and releases the module (the last user finalises it); later calls fail.
    ///
    /// Waits at most ``deadline`` for a call in progress; the close then happens when that call ends.
    public func close() {
        try? perform { connection throws(KEKProviderError) in connection.close() }
    }

    /// How many sessions the provider has opened so far (a test hook: a re-opened session shows here).
    var sessionsOpened: Int {
        (try? perform { connection throws(KEKProviderError) in connection.sessionsOpened }) ?? 0
    }

    /// How many session objects the provider's session holds now (a test hook: wraps and unwraps leave none).
    var sessionObjectsLeft: Int {
        (try? perform { connection throws(KEKProviderError) in connection.sessionObjectCount() }) ?? -1
    }

    private func perform<Value: Sendable>(
        _ work: @escaping @Sendable (Connection) throws(KEKProviderError) -> Value
    ) throws(KEKProviderError) -> Value {
        let call = PendingCall<Value>()
        queue.async { [connection] in call.run { () throws(KEKProviderError) in try work(connection) } }
        guard let result = call.wait(for: deadline) else {
            throw .unavailable(provider: kekID, reason: "the token did not answer within \(deadline)")
        }
        return try result.get()
    }

    private static func readPIN(configuration: Configuration, fileSystem: any FileSystem) throws(KEKProviderError)
        -> SecretBytes
    {
        let path = configuration.pinPath
        let provider = configuration.kekID
        let mode: UInt16
        do throws(FileSystemError) {
            mode = try fileSystem.permissions(at: path)
        } catch {
            throw .misconfigured(provider: provider, reason: "the PIN file cannot be read: \(error)")
        }
        guard mode & FileKEKProvider.forbiddenPermissionBits == 0 else {
            throw .misconfigured(
                provider: provider,
                reason: "ErrKEKFilePermissions: the PIN file \(path) has mode 0"
                    + String(mode, radix: 8) + " and must not be accessible by group or others (chmod 600 it)")
        }
        var bytes: [UInt8]
        do throws(FileSystemError) {
            bytes = try fileSystem.readFile(at: path)
        } catch {
            throw .misconfigured(provider: provider, reason: "the PIN file cannot be read: \(error)")
        }
        defer { bytes.withUnsafeMutableBytes { SecretBytes.zero($0) } }
        var end = bytes.endIndex
        if end > 0, bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        if end > 0, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end > 0 else { throw .misconfigured(provider: provider, reason: "the PIN file \(path) is empty") }
        guard end <= Configuration.maxPINByteCount else {
            throw .misconfigured(
                provider: provider,
                reason: "the PIN file \(path) holds more than "
                    + "\(Configuration.maxPINByteCount) bytes")
        }
        return SecretBytes(copying: bytes[..<end])
    }
}

extension PKCS11KEKProvider {
    /// One call handed to the queue: the caller waits for its result until the deadline, then abandons it.
    final class PendingCall<Value: Sendable>: Sendable {
        private enum State {
            case waiting
            case running
            case finished(Result<Value, KEKProviderError>)
            case abandoned
        }

        private let state = Mutex(State.waiting)
        private let done = DispatchSemaphore(value: 0)

        /// Runs `body` unless the caller already gave up, and hands the result over.
        func run(_ body: () throws(KEKProviderError) -> Value) {
            let starts = state.withLock { state in
                guard case .waiting = state else { return false }
                state = .running
                return true
            }
            guard starts else { return }
            let result: Result<Value, KEKProviderError>
            do throws(KEKProviderError) {
                result = .success(try body())
            } catch {
                result = .failure(error)
            }
            state.withLock { state in
                if case .running = state { state = .finished(result) }
            }
            done.signal()
        }

        /// The result, or nil when none came within `deadline` (the call is then abandoned).
        func wait(for deadline: Duration) -> Result<Value, KEKProviderError>? {
            let (seconds, attoseconds) = deadline.components
            let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
            _ = done.wait(timeout: .now() + .nanoseconds(nanoseconds))
            return state.withLock { state in
                if case .finished(let result) = state { return result }
                state = .abandoned
                return nil
            }
        }
    }
}

extension PKCS11KEKProvider {
    /// A parsed `pkcs11:` URI: which token, which key, which module, and where the PIN is.
    ///
    /// Path attribute values are percent-decoded (RFC 7512 §2.3); `id` is raw bytes, the others UTF-8.
    public struct Configuration: Sendable, Hashable {
        /// The URI without its query: the kek id.
        public let kekID: String
        /// `token=`: the token's CKA-style label (up to 32 bytes).
        public let tokenLabel: String?
        /// `slot-id=`: the slot, when the URI pins one.
        public let slotID: UInt?
        /// `object=`: the key's CKA_LABEL.
        public let objectLabel: String?
        /// `id=`: the key's CKA_ID.
        public let objectID: [UInt8]?
        /// `module-path=`: the PKCS #11 library, an absolute path.
        public let modulePath: String
        /// `pin-source=file:PATH`: the file holding the user PIN, an absolute path.
        public let pinPath: String

        /// The path attributes understood.
        public static let pathAttributes: Set<String> = ["token", "object", "id", "slot-id", "type"]
        /// The query options understood.
        public static let options: Set<String> = ["module-path", "pin-source"]
        /// The longest PIN accepted, in bytes.
        public static let maxPINByteCount = 255
        /// The longest token label PKCS #11 can hold, in bytes.
        public static let maxTokenLabelByteCount = 32
        /// The longest CKA_ID or object label accepted, in bytes.
        public static let maxObjectAttributeByteCount = 255

        private static let scheme = "pkcs11"

        /// Parses a `pkcs11:` URI.
        ///
        /// - Throws: ``KEKURIError``: an unknown path attribute or option, a `pin-value`, a repeated or
        ///   malformed attribute, no token or slot, no object label or id, a missing or relative
        ///   `module-path`, a `pin-source` that is not `file:` with an absolute path.
        public init(uri: KEKURI) throws(KEKURIError) {
            precondition(uri.scheme == Self.scheme, "a PKCS #11 configuration is made from a pkcs11: URI")
            let attributes = try Self.pathAttributes(of: uri.body)
            tokenLabel = try Self.text(attributes, "token", maxByteCount: Self.maxTokenLabelByteCount)
            objectLabel = try Self.text(attributes, "object", maxByteCount: Self.maxObjectAttributeByteCount)
            objectID = attributes["id"]
            if let id = objectID, id.isEmpty || id.count > Self.maxObjectAttributeByteCount {
                throw .invalidOption(
                    scheme: Self.scheme, name: "id",
                    reason: "must be 1 to "
                        + "\(Self.maxObjectAttributeByteCount) bytes")
            }
            if let slot = try Self.text(attributes, "slot-id", maxByteCount: 20) {
                guard let number = UInt(slot) else {
                    throw .invalidOption(scheme: Self.scheme, name: "slot-id", reason: "must be a decimal number")
                }
                slotID = number
            } else {
                slotID = nil
            }
            if let type = try Self.text(attributes, "type", maxByteCount: 16), type != "secret-key" {
                throw .invalidOption(scheme: Self.scheme, name: "type", reason: "only a secret-key object wraps DEKs")
            }
            guard tokenLabel != nil || slotID != nil else { throw .missingOption(scheme: Self.scheme, name: "token") }
            guard objectLabel != nil || objectID != nil else {
                throw .missingOption(scheme: Self.scheme, name: "object")
            }
            (modulePath, pinPath) = try Self.queryOptions(of: uri)
            kekID = uri.withoutQuery
        }

        private static func pathAttributes(of body: String) throws(KEKURIError) -> [String: [UInt8]] {
            var attributes: [String: [UInt8]] = [:]
            var unknown: [String] = []
            for item in body.split(separator: ";", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw .invalidOption(
                        scheme: scheme, name: "path",
                        reason: "path attributes are name=value items joined by ;")
                }
                let name = String(parts[0])
                guard Self.pathAttributes.contains(name) else {
                    unknown.append(name)
                    continue
                }
                guard attributes[name] == nil else {
                    throw .invalidOption(scheme: scheme, name: name, reason: "is given more than once")
                }
                guard let value = KEKURI.percentDecodedBytes(parts[1]) else {
                    throw .invalidOption(scheme: scheme, name: name, reason: "has a malformed %XX escape")
                }
                attributes[name] = value
            }
            guard unknown.isEmpty else { throw .unknownOptions(scheme: scheme, names: unknown) }
            return attributes
        }

        private static func text(
            _ attributes: [String: [UInt8]], _ name: String,
            maxByteCount: Int
        ) throws(KEKURIError) -> String? {
            guard let bytes = attributes[name] else { return nil }
            guard !bytes.isEmpty, bytes.count <= maxByteCount else {
                throw .invalidOption(scheme: scheme, name: name, reason: "must be 1 to \(maxByteCount) bytes")
            }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .invalidOption(scheme: scheme, name: name, reason: "is not UTF-8")
            }
            return text
        }

        private static func queryOptions(of uri: KEKURI) throws(KEKURIError) -> (module: String, pin: String) {
            if uri.option("pin-value") != nil {
                throw .invalidOption(
                    scheme: scheme, name: "pin-value",
                    reason: "a PIN is never written in the URI; "
                        + "put it in a file readable only by the node's user and name it with pin-source=file:PATH")
            }
            let unknown = uri.unknownOptions(known: options)
            guard unknown.isEmpty else { throw .unknownOptions(scheme: scheme, names: unknown) }
            for name in options where uri.query.filter({ $0.name == name }).count > 1 {
                throw .invalidOption(scheme: scheme, name: name, reason: "is given more than once")
            }
            guard let module = uri.option("module-path") else {
                throw .missingOption(scheme: scheme, name: "module-path")
            }
            guard module.hasPrefix("/") else {
                throw .invalidOption(scheme: scheme, name: "module-path", reason: "must be an absolute path")
            }
            guard let source = uri.option("pin-source") else {
                throw .missingOption(scheme: scheme, name: "pin-source")
            }
            guard source.hasPrefix("file:") else {
                throw .invalidOption(scheme: scheme, name: "pin-source", reason: "must be file:PATH")
            }
            var pin = source.dropFirst("file:".count)
            if pin.hasPrefix("//") { pin = pin.dropFirst(2) }
            guard pin.hasPrefix("/") else {
                throw .invalidOption(
                    scheme: scheme, name: "pin-source", reason: "must name an absolute path (file:/PATH)")
            }
            return (module, String(pin))
        }
    }
}

extension PKCS11KEKProvider {
    /// The token key as found in the current session.
    private struct TokenKey {
        let handle: CK_OBJECT_HANDLE
        let allowsWrap: Bool
        let allowsUnwrap: Bool
    }

    /// The session and what was found through it; used only on the provider's queue, hence `@unchecked`.
    private final class Connection: @unchecked Sendable {
        private let configuration: Configuration
        private let module: PKCS11Module
        private let pin: SecretBytes
        private var session: PKCS11Session?
        private var key: TokenKey?
        private var format: WrapFormat?
        private var closed = false
        /// Sessions opened so far, for tests that check a lost session was replaced.
        private(set) var sessionsOpened = 0

        private var provider: String { configuration.kekID }

        init(configuration: Configuration, module: PKCS11Module, pin: SecretBytes) {
            self.configuration = configuration
            self.module = module
            self.pin = pin
        }

        func close() {
            guard !closed else { return }
            closed = true
            drop()
            module.release()
        }

        func wrap(_ dek: DataEncryptionKey) throws(KEKProviderError) -> [UInt8] {
            try withSession { session, key in
                guard key.allowsWrap else {
                    throw KEKProviderError.misconfigured(
                        provider: provider,
                        reason: "the token key does not allow "
                            + "wrapping (CKA_WRAP is false)")
                }
                let template = Self.sessionKeyTemplate()
                dek.secret.withUnsafeBytes { template.append(CK_ATTRIBUTE_TYPE(CKA_VALUE), bytes: $0) }
                let object = try session.createObject(template)
                defer { session.destroyObject(object) }
                return try wrap(object, in: session, under: key)
            }
        }

        private func wrap(_ object: CK_OBJECT_HANDLE, in session: PKCS11Session, under key: TokenKey) throws -> [UInt8]
        {
            let chosen = try format ?? chooseFormat(slot: session.slot)
            var used = chosen
            let bytes: [UInt8]
            do throws(PKCS11Module.Failure) {
                bytes = try session.wrapKey(mechanism: chosen.mechanism, wrappingKey: key.handle, key: object)
            } catch {
                guard chosen == .keyWrapWithPadding, error.code == CKR_MECHANISM_INVALID else { throw error }
                used = .keyWrap
                bytes = try session.wrapKey(mechanism: used.mechanism, wrappingKey: key.handle, key: object)
            }
            format = used
            return [used.rawValue] + bytes
        }

        /// KWP when the token lists it (or lists nothing), else plain key wrap.
        private func chooseFormat(slot: CK_SLOT_ID) throws -> WrapFormat {
            let offered: Set<CK_MECHANISM_TYPE>
            do throws(PKCS11Module.Failure) {
                offered = try module.mechanisms(slot: slot)
            } catch {
                guard error.code == CKR_FUNCTION_NOT_SUPPORTED else { throw error }
                return .keyWrapWithPadding
            }
            if offered.contains(WrapFormat.keyWrapWithPadding.mechanism) { return .keyWrapWithPadding }
            if offered.contains(WrapFormat.keyWrap.mechanism) { return .keyWrap }
            throw KEKProviderError.misconfigured(
                provider: provider,
                reason: "the token offers neither "
                    + "CKM_AES_KEY_WRAP_KWP nor CKM_AES_KEY_WRAP")
        }

        func unwrap(_ wrapped: [UInt8]) throws(KEKProviderError) -> DataEncryptionKey {
            guard let first = wrapped.first, let format = WrapFormat(rawValue: first), wrapped.count > 1,
                wrapped.count <= 1 + PKCS11Session.maxWrappedByteCount
            else { throw .mismatch(provider: provider) }
            return try withSession { session, key in
                guard key.allowsUnwrap else {
                    throw KEKProviderError.misconfigured(
                        provider: provider,
                        reason: "the token key does not allow "
                            + "unwrapping (CKA_UNWRAP is false)")
                }
                let object: CK_OBJECT_HANDLE
                do throws(PKCS11Module.Failure) {
                    object = try session.unwrapKey(
                        mechanism: format.mechanism, unwrappingKey: key.handle,
                        wrapped: Array(wrapped.dropFirst()), template: Self.sessionKeyTemplate())
                } catch {
                    guard Self.unexplainedCodes.contains(error.code) else { throw error }
                    try session.checkAlive()
                    throw KEKProviderError.mismatch(provider: provider)
                }
                defer { session.destroyObject(object) }
                guard let value = try session.secretValue(of: object, byteCount: DataEncryptionKey.byteCount) else {
                    throw KEKProviderError.mismatch(provider: provider)
                }
                return value.withUnsafeBytes { bytes in
                    do {
                        return try DataEncryptionKey(bytes: bytes)
                    } catch {
                        preconditionFailure("\(DataEncryptionKey.byteCount) bytes always make a DEK")
                    }
                }
            }
        }

        /// An AES session key the token may wrap and whose value may be read back.
        private static func sessionKeyTemplate() -> PKCS11Session.Template {
            let template = PKCS11Session.Template()
            template.append(CK_ATTRIBUTE_TYPE(CKA_CLASS), unsigned: CK_ULONG(CKO_SECRET_KEY))
            template.append(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), unsigned: CK_ULONG(CKK_AES))
            template.append(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: false)
            template.append(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: true)
            template.append(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), bool: false)
            template.append(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), bool: true)
            return template
        }

        /// Runs `body` with the open session, opening one first when needed; a lost session is replaced once.
        private func withSession<Value>(
            _ body: (PKCS11Session, TokenKey) throws -> Value
        ) throws(KEKProviderError) -> Value {
            guard !closed else { throw .misconfigured(provider: provider, reason: "the provider was closed") }
            var reopened = false
            while true {
                do {
                    let (session, key) = try current()
                    return try body(session, key)
                } catch let failure as PKCS11Module.Failure {
                    guard Self.sessionLostCodes.contains(failure.code) else { throw providerError(for: failure) }
                    drop()
                    guard !reopened else { throw providerError(for: failure) }
                    reopened = true
                } catch let error as KEKProviderError {
                    throw error
                } catch {
                    preconditionFailure("PKCS #11 steps throw only Failure or KEKProviderError, not \(error)")
                }
            }
        }

        func sessionObjectCount() -> Int {
            guard let session else { return 0 }
            let template = PKCS11Session.Template()
            template.append(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: false)
            return (try? session.findObjects(template, limit: 64).count) ?? -1
        }

        private func drop() {
            session?.close()
            session = nil
            key = nil
            format = nil
        }

        private func current() throws -> (PKCS11Session, TokenKey) {
            if let session, let key { return (session, key) }
            let slot = try findSlot()
            let opened = try PKCS11Session(module: module, slot: slot)
            sessionsOpened += 1
            do {
                try opened.login(pin: pin)
                let found = try findKey(in: opened)
                session = opened
                key = found
                return (opened, found)
            } catch {
                opened.close()
                throw error
            }
        }

        private func findSlot() throws -> CK_SLOT_ID {
            if let number = configuration.slotID {
                let slot = CK_SLOT_ID(number)
                if let wanted = configuration.tokenLabel, try module.tokenLabel(slot: slot) != wanted {
                    throw KEKProviderError.misconfigured(
                        provider: provider,
                        reason: "the token in slot \(number) is "
                            + "not labelled '\(wanted)'")
                }
                return slot
            }
            guard let wanted = configuration.tokenLabel else { preconditionFailure("a configuration names a token") }
            var matches: [CK_SLOT_ID] = []
            for slot in try module.slotsWithToken() {
                do throws(PKCS11Module.Failure) {
                    if try module.tokenLabel(slot: slot) == wanted { matches.append(slot) }
                } catch {
                    guard Self.tokenGoneCodes.contains(error.code) else { throw error }
                }
            }
            guard let slot = matches.first else {
                throw KEKProviderError.unavailable(
                    provider: provider,
                    reason: "no token labelled '\(wanted)' is "
                        + "present (check token= and that the token is connected)")
            }
            guard matches.count == 1 else {
                throw KEKProviderError.misconfigured(
                    provider: provider,
                    reason: "\(matches.count) tokens are labelled "
                        + "'\(wanted)'; add slot-id= to the URI")
            }
            return slot
        }

        private func findKey(in session: PKCS11Session) throws -> TokenKey {
            let template = PKCS11Session.Template()
            template.append(CK_ATTRIBUTE_TYPE(CKA_CLASS), unsigned: CK_ULONG(CKO_SECRET_KEY))
            var names: [String] = []
            if let label = configuration.objectLabel {
                template.append(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
                names.append("labelled '\(label)'")
            }
            if let id = configuration.objectID {
                template.append(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
                names.append("with id " + id.map { String($0, radix: 16).leftPadded(to: 2) }.joined())
            }
            let wanted = "secret-key object " + names.joined(separator: " and ")
            let found = try session.findObjects(template, limit: 2)
            guard let handle = found.first else {
                throw KEKProviderError.misconfigured(provider: provider, reason: "the token has no \(wanted)")
            }
            guard found.count == 1 else {
                throw KEKProviderError.misconfigured(
                    provider: provider,
                    reason: "the token has more than one "
                        + "\(wanted); name the key by both object= and id=")
            }
            guard try session.unsignedAttribute(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), of: handle) == CKK_AES else {
                throw KEKProviderError.misconfigured(provider: provider, reason: "the \(wanted) is not an AES key")
            }
            return TokenKey(
                handle: handle,
                allowsWrap: try session.boolAttribute(CK_ATTRIBUTE_TYPE(CKA_WRAP), of: handle),
                allowsUnwrap: try session.boolAttribute(CK_ATTRIBUTE_TYPE(CKA_UNWRAP), of: handle))
        }

        private func providerError(for failure: PKCS11Module.Failure) -> KEKProviderError {
            let code = failure.code
            if failure.function == "C_UnwrapKey", Self.mismatchCodes.contains(code) {
                return .mismatch(provider: provider)
            }
            if Self.unavailableCodes.contains(code) {
                return .unavailable(provider: provider, reason: failure.description)
            }
            if Self.pinCodes.contains(code) {
                return .misconfigured(
                    provider: provider,
                    reason: "\(failure): the token refused the user PIN read "
                        + "from the pin-source file")
            }
            if Self.misconfiguredCodes.contains(code) {
                return .misconfigured(provider: provider, reason: failure.description)
            }
            return .rejected(provider: provider, reason: failure.description)
        }

        /// Failures after which the session (or its login, or a handle found through it) is no longer usable.
        private static let sessionLostCodes: Set<CK_RV> = [
            CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_USER_NOT_LOGGED_IN, CKR_DEVICE_REMOVED,
            CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR, CKR_TOKEN_NOT_RECOGNIZED, CKR_KEY_HANDLE_INVALID,
            CKR_OBJECT_HANDLE_INVALID, CKR_WRAPPING_KEY_HANDLE_INVALID, CKR_UNWRAPPING_KEY_HANDLE_INVALID,
        ]

        /// A slot whose token went away while it was being listed.
        private static let tokenGoneCodes: Set<CK_RV> = [
            CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_RECOGNIZED, CKR_SLOT_ID_INVALID,
        ]

        /// The token or its link is failing, absent or busy: a later call may succeed.
        private static let unavailableCodes: Set<CK_RV> = [
            CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED,
            CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_SESSION_COUNT, CKR_USER_NOT_LOGGED_IN,
            CKR_HOST_MEMORY, CKR_FUNCTION_CANCELED, CKR_CANT_LOCK, CKR_KEY_HANDLE_INVALID, CKR_OBJECT_HANDLE_INVALID,
            CKR_WRAPPING_KEY_HANDLE_INVALID, CKR_UNWRAPPING_KEY_HANDLE_INVALID,
        ]

        /// The PIN from the pin-source file was refused.
        private static let pinCodes: Set<CK_RV> = [
            CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE, CKR_PIN_EXPIRED, CKR_PIN_LOCKED,
            CKR_USER_PIN_NOT_INITIALIZED,
        ]

        /// The token or its key cannot do what the URI asks of it.
        private static let misconfiguredCodes: Set<CK_RV> = [
            CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID, CKR_KEY_TYPE_INCONSISTENT,
            CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_WRAPPING_KEY_TYPE_INCONSISTENT, CKR_WRAPPING_KEY_SIZE_RANGE,
            CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, CKR_UNWRAPPING_KEY_SIZE_RANGE, CKR_FUNCTION_NOT_SUPPORTED,
            CKR_CRYPTOKI_NOT_INITIALIZED, CKR_USER_TYPE_INVALID, CKR_SLOT_ID_INVALID,
        ]

        /// Failures that say nothing specific. SoftHSM2 reports a failed RFC 3394/5649 integrity check from
        /// C_UnwrapKey as CKR_GENERAL_ERROR, so after one of these an unwrap checks that the session still
        /// answers: if it does, the token worked and refused the bytes (a mismatch); if not, the session's
        /// failure is what the call reports.
        private static let unexplainedCodes: Set<CK_RV> = [CKR_GENERAL_ERROR, CKR_FUNCTION_FAILED]

        /// An unwrap refused the bytes themselves: another key made them, or they were altered.
        private static let mismatchCodes: Set<CK_RV> = [
            CKR_WRAPPED_KEY_INVALID, CKR_WRAPPED_KEY_LEN_RANGE, CKR_ENCRYPTED_DATA_INVALID,
            CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_DATA_INVALID, CKR_DATA_LEN_RANGE,
        ]
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
