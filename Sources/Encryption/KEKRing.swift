/// The KEKs a node is configured with (`--kek URI`, repeated; DESIGN §3.4), used as one provider.
///
/// The first member that wraps new keys is the *primary*. Every wrapping member receives a wrap of every DEK, so
/// any one of them alone can unwrap it later (a recovery KEK kept offline, a second KMS region). Members that
/// only unwrap (the `--previous-kek-file` of a KEK change) are tried after the others and never receive wraps.
///
/// With one wrapping member the ring records no kek ids: a single KEK's wraps are stored exactly as before
/// several KEKs existed (the sidecar's `wrapped` alone), so a cluster that never configures a second KEK keeps
/// its formats. With two or more, ``wrapForStorage(_:)`` returns one ``KEKWrap`` per wrapping member, primary
/// first; a wrap that fails on any of them fails the whole call, since a DEK left without one configured KEK's
/// wrap would silently lose that KEK's protection.
public struct KEKRing: KEKProvider, KEKReloading {
    /// One configured KEK.
    public struct Member: Sendable {
        /// The provider (already wrapped in its retry policy and metrics, where it has them).
        public let provider: any KEKProvider
        /// The scheme it was configured with, for status.
        public let scheme: String
        /// The id used when the provider cannot name its key itself (the URI without its query).
        public let configuredID: String
        /// Whether new keys are wrapped under it (false for a previous KEK kept only to unwrap).
        public let wrapsNewKeys: Bool

        public init(provider: any KEKProvider, scheme: String, configuredID: String, wrapsNewKeys: Bool = true) {
            self.provider = provider
            self.scheme = scheme
            self.configuredID = configuredID
            self.wrapsNewKeys = wrapsNewKeys
        }

        /// The kek id: the provider's own (a fingerprint of a `file:`/`env:` key, which follows a reload) or
        /// the configured one.
        public var id: String { provider.kekID ?? configuredID }
    }

    /// The members in configuration order.
    public let members: [Member]

    /// - Precondition: at least one member wraps new keys.
    public init(_ members: [Member]) {
        precondition(members.contains(where: \.wrapsNewKeys), "a KEK ring needs a KEK that wraps new keys")
        self.members = members
    }

    /// A ring of one provider that wraps and unwraps.
    public init(single provider: any KEKProvider, scheme: String = "file", configuredID: String = "kek") {
        self.init([Member(provider: provider, scheme: scheme, configuredID: configuredID)])
    }

    /// The members that receive wraps, primary first.
    public var wrappingMembers: [Member] { members.filter(\.wrapsNewKeys) }

    /// The primary member.
    public var primary: Member { wrappingMembers[0] }

    /// The ids of the wrapping members, primary first.
    public var wrappingKEKIDs: [String] { wrappingMembers.map(\.id) }

    public func reload() throws {
        for member in members { try (member.provider as? any KEKReloading)?.reload() }
    }

    public func wrap(_ key: DataEncryptionKey) throws -> [UInt8] {
        try primary.provider.wrap(key)
    }

    public func unwrap(_ wrapped: [UInt8]) throws -> DataEncryptionKey {
        try unwrap(WrappedDEK(wrapped))
    }

    public func wrapForStorage(_ key: DataEncryptionKey) throws -> WrappedDEK {
        let wrapping = wrappingMembers
        guard wrapping.count > 1 else { return WrappedDEK(try wrapping[0].provider.wrap(key)) }
        var wraps: [KEKWrap] = []
        for member in wrapping {
            do { wraps.append(KEKWrap(kekID: member.id, bytes: try member.provider.wrap(key))) } catch {
                throw KEKRingError.wrapFailed(kekID: member.id, reason: "\(error)", transient: Self.isTransient(error))
            }
        }
        return WrappedDEK(wraps: wraps)
    }

    /// Unwraps with the members that have a wrap of their own in `wrapped` first (in configuration order), then
    /// with every member on the primary bytes (keys wrapped before their kek ids were recorded, or by a KEK
    /// being replaced).
    ///
    /// - Throws: ``KEKRingError/noKEKUnwraps(attempts:)``, transient only when every failure was.
    public func unwrap(_ wrapped: WrappedDEK) throws -> DataEncryptionKey {
        var attempts: [KEKRingError.Attempt] = []
        var tried = Set<String>()
        for member in members {
            let id = member.id
            guard let bytes = wrapped.bytes(for: id) else { continue }
            tried.insert(id)
            do { return try member.provider.unwrap(bytes) } catch {
                attempts.append(.init(kekID: id, reason: "\(error)", transient: Self.isTransient(error)))
            }
        }
        if attempts.isEmpty {
            for member in members where !tried.contains(member.id) {
                do { return try member.provider.unwrap(wrapped.bytes) } catch {
                    attempts.append(.init(kekID: member.id, reason: "\(error)", transient: Self.isTransient(error)))
                }
            }
        }
        throw KEKRingError.noKEKUnwraps(attempts: attempts)
    }

    /// Whether an error from a member means "try again later" rather than "not this KEK".
    public static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? KEKProviderError { return error.isTransient }
        if let error = error as? KEKRingError { return error.isTransient }
        return false
    }

    /// The wrapping members' ids joined by commas: file and environment KEKs are named by a fingerprint that
    /// reveals nothing about the key, other providers by their URI without its query.
    public var checkValue: String? { wrappingKEKIDs.joined(separator: ",") }

    public func probe() {
        for member in members { member.provider.probe() }
    }

    public func providerHealth() -> [KEKProviderHealth] {
        let primaryID = primary.id
        return members.map { member in
            let id = member.id
            let own = member.provider.providerHealth().first
            return KEKProviderHealth(
                kekID: id, scheme: member.scheme, primary: id == primaryID, state: own?.state ?? .up,
                consecutiveFailures: own?.consecutiveFailures ?? 0, lastError: own?.lastError)
        }
    }
}

/// Why a ``KEKRing`` could not wrap or unwrap.
public enum KEKRingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One member's failed unwrap.
    public struct Attempt: Hashable, Sendable {
        public let kekID: String
        public let reason: String
        public let transient: Bool
    }

    /// A wrapping member could not wrap a new key; no wrap is stored.
    case wrapFailed(kekID: String, reason: String, transient: Bool)
    /// No configured KEK unwrapped the key.
    case noKEKUnwraps(attempts: [Attempt])

    /// Whether every failure was transient (`ErrKEKUnavailable`: a supervisor should retry).
    public var isTransient: Bool {
        switch self {
        case .wrapFailed(_, _, let transient): return transient
        case .noKEKUnwraps(let attempts): return !attempts.isEmpty && attempts.allSatisfy(\.transient)
        }
    }

    public var description: String {
        switch self {
        case .wrapFailed(let id, let reason, _):
            return "KEK \(id) cannot wrap a DEK (every configured KEK must wrap every DEK): \(reason)"
        case .noKEKUnwraps(let attempts):
            let name = isTransient ? "ErrKEKUnavailable" : "ErrKEKMismatch"
            let tried = attempts.map { "KEK \($0.kekID): \($0.reason)" }.joined(separator: "; ")
            return "\(name): no configured KEK unwraps the DEK (\(tried))"
        }
    }
}
