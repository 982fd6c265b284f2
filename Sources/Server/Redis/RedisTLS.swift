import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// RESP over TLS (DESIGN §11): `--redis-tls-addr`, the node's certificate and key (`--tls-cert-file`,
/// `--tls-key-file`), the CA that client certificates must chain to (`--tls-ca-file`), and Redis's
/// `tls-auth-clients` rule (`--redis-tls-auth-clients`).
public struct RedisTLSSettings: Sendable, Hashable {
    /// Redis's `tls-auth-clients`: `yes` requires a client certificate signed by the CA, `optional` checks
    /// one only when the client presents it, `no` never asks.
    public enum ClientAuthentication: String, Sendable, Hashable, CaseIterable {
        case yes, no, optional
    }

    public var host: String
    /// 0 picks an ephemeral port (reported through ``RedisServer/Configuration/onTLSBound``).
    public var port: Int
    public var certificateFile: String
    public var keyFile: String
    public var caFile: String?
    public var authClients: ClientAuthentication

    public init(host: String, port: Int, certificateFile: String, keyFile: String, caFile: String?,
                authClients: ClientAuthentication = .yes) {
        self.host = host
        self.port = port
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.authClients = authClients
    }
}

/// Why TLS could not be set up from the files; names the flag and the file, never key bytes.
public struct TLSSetupError: Error, Hashable, Sendable, CustomStringConvertible {
    public let flag: String
    public let path: String
    public let reason: String

    public var description: String { "\(flag): cannot use '\(path)': \(reason)" }
}

/// The TLS server context of the Redis listener, built from the files and rebuilt when they change (a
/// certificate renewal) or on SIGHUP: connections accepted afterwards use the new context, open ones keep
/// theirs. A reload that fails keeps the previous context (and says why).
public final class TLSContextSource: Sendable {
    let settings: RedisTLSSettings
    private struct Loaded {
        var context: NIOSSLContext
        /// Modification times of the files the context was built from.
        var stamps: [Date?]
    }
    private let loaded: Mutex<Loaded>

    public init(_ settings: RedisTLSSettings) throws(TLSSetupError) {
        self.settings = settings
        let stamps = Self.stamps(settings)
        loaded = Mutex(Loaded(context: try Self.makeContext(settings), stamps: stamps))
    }

    var context: NIOSSLContext { loaded.withLock { $0.context } }

    /// Rebuilds the context when a file changed (or always, with `force`). Returns whether it was rebuilt.
    @discardableResult
    public func reload(force: Bool = false) throws(TLSSetupError) -> Bool {
        let stamps = Self.stamps(settings)
        guard force || loaded.withLock({ $0.stamps != stamps }) else { return false }
        do throws(TLSSetupError) {
            let context = try Self.makeContext(settings)
            loaded.withLock { $0 = Loaded(context: context, stamps: stamps) }
            return true
        } catch {
            // Do not retry the same broken files every poll: wait for the next change.
            loaded.withLock { $0.stamps = stamps }
            throw error
        }
    }

    /// ``reload(force:)``, logging a new certificate and, for a failure, that the previous one stays in use.
    func reload(force: Bool, logger: Logger) {
        do throws(TLSSetupError) {
            if try reload(force: force) { logger.info("redis TLS certificate reloaded") }
        } catch {
            logger.warning("redis TLS files could not be reloaded; the previous certificate stays in use",
                           metadata: ["error": "\(error)"])
        }
    }

    static func stamps(_ settings: RedisTLSSettings) -> [Date?] {
        [settings.certificateFile, settings.keyFile, settings.caFile].map { path in
            path.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.modificationDate] as? Date }
        }
    }

    static func makeContext(_ settings: RedisTLSSettings) throws(TLSSetupError) -> NIOSSLContext {
        func load<T>(_ flag: String, _ path: String, _ body: () throws -> T) throws(TLSSetupError) -> T {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw TLSSetupError(flag: flag, path: path, reason: "the file does not exist or is not readable")
            }
            do { return try body() } catch {
                throw TLSSetupError(flag: flag, path: path, reason: "not a PEM file of the expected kind (\(type(of: error)))")
            }
        }
        let chain = try load("--tls-cert-file", settings.certificateFile) {
            try NIOSSLCertificate.fromPEMFile(settings.certificateFile)
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(flag: "--tls-cert-file", path: settings.certificateFile, reason: "no certificate in it")
        }
        let key = try load("--tls-key-file", settings.keyFile) { try NIOSSLPrivateKey(file: settings.keyFile, format: .pem) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        switch settings.authClients {
        case .no:
            configuration.certificateVerification = .none
        case .yes, .optional:
            guard let caFile = settings.caFile else {
                throw TLSSetupError(flag: "--tls-ca-file", path: "", reason:
                    "--redis-tls-auth-clients \(settings.authClients.rawValue) needs the CA that signs client certificates")
            }
            let roots = try load("--tls-ca-file", caFile) { try NIOSSLCertificate.fromPEMFile(caFile) }
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = settings.authClients == .yes
                ? .noHostnameVerification : .optionalVerification
        }
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw TLSSetupError(flag: "--tls-cert-file", path: settings.certificateFile,
                                reason: "the certificate and key do not make a TLS context (\(error))")
        }
    }
}
