import DurableIO
import Encryption
import Foundation

/// Builds the node's ``KEKRing`` from `--kek-file`, `--kek` and `--previous-kek-file` (DESIGN §3.4).
///
/// `--kek-file PATH` is `--kek file:PATH` placed first; `--previous-kek-file` joins as a KEK that only unwraps.
/// Without any of them, `ELASTICKV_KEK_BASE64` (tests) is the only KEK when encryption is enabled. Providers
/// that call a service get the retry policy and circuit breaker of ``ResilientKEKProvider``; every provider is
/// measured per kek (``InstrumentedKEKProvider``).
enum NodeKEKs {
    /// What a configured URI turns into before it is measured and joined to the ring.
    struct Built {
        let provider: any KEKProvider
        /// Whether the provider calls a service (retries and a circuit breaker apply).
        let remote: Bool
    }

    /// Makes the provider a URI names; `Factory` is replaced in tests.
    typealias Factory = @Sendable (KEKURI, any FileSystem) throws -> Built

    static func ring(_ configuration: NodeConfiguration, fileSystem: any FileSystem, metrics: MetricsRegistry?,
                     factory: @escaping Factory = makeProvider) throws -> KEKRing?
    {
        var uris = configuration.kekFile.map { ["file:" + $0] } ?? []
        uris += configuration.kekURIs
        if uris.isEmpty, configuration.encryptionEnabled,
           ProcessInfo.processInfo.environment[EnvironmentKEKProvider.defaultVariableName] != nil
        {
            uris = ["env:" + EnvironmentKEKProvider.defaultVariableName]
        }
        guard !uris.isEmpty else { return nil }
        var members: [KEKRing.Member] = []
        var seen = Set<String>()
        for text in uris {
            let uri = try KEKURI(text)
            guard seen.insert(uri.withoutQuery).inserted else { throw KEKURIError.duplicate(uri.withoutQuery) }
            members.append(member(uri, wraps: true, metrics: metrics,
                                  built: try build(uri, fileSystem: fileSystem, factory: factory)))
        }
        if let previous = configuration.previousKEKFile {
            let uri = try KEKURI("file:" + previous)
            members.append(member(uri, wraps: false, metrics: metrics, built: try factory(uri, fileSystem)))
        }
        return KEKRing(members)
    }

    /// Makes the provider; one whose service is unavailable now is made on first use instead
    /// (``DeferredKEKProvider``), so another KEK can start the node and this one joins when it is back.
    private static func build(_ uri: KEKURI, fileSystem: any FileSystem, factory: @escaping Factory) throws -> Built {
        do { return try factory(uri, fileSystem) } catch let error as KEKProviderError where error.isTransient {
            return Built(provider: DeferredKEKProvider(name: uri.withoutQuery) {
                try factory(uri, fileSystem).provider
            }, remote: true)
        }
    }

    private static func member(_ uri: KEKURI, wraps: Bool, metrics: MetricsRegistry?, built: Built)
        -> KEKRing.Member
    {
        var provider = built.provider
        if let metrics { provider = InstrumentedKEKProvider(provider, metrics: metrics, kek: uri.withoutQuery) }
        if built.remote { provider = ResilientKEKProvider(provider, name: uri.withoutQuery) }
        return KEKRing.Member(provider: provider, scheme: uri.scheme, configuredID: uri.withoutQuery,
                              wrapsNewKeys: wraps)
    }

    /// The provider of each scheme.
    static func makeProvider(_ uri: KEKURI, fileSystem: any FileSystem) throws -> Built {
        switch uri.scheme {
        case "file":
            guard uri.query.isEmpty else { throw KEKURIError.unknownOptions(scheme: "file", names: uri.query.map(\.name)) }
            let path = uri.body
            let initial = try FileKEKProvider(path: path, fileSystem: fileSystem)
            return Built(provider: ReloadingKEKProvider(initial: initial) {
                try FileKEKProvider(path: path, fileSystem: fileSystem)
            }, remote: false)
        case "env":
            guard uri.query.isEmpty else { throw KEKURIError.unknownOptions(scheme: "env", names: uri.query.map(\.name)) }
            return Built(provider: try EnvironmentKEKProvider(variableName: uri.body), remote: false)
        default:
            return try makeRemoteProvider(uri)
        }
    }
}
