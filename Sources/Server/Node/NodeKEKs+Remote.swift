import Encryption
import KEKProviders

extension NodeKEKs {
    /// The providers that call a service or a command.
    static func makeRemoteProvider(_ uri: KEKURI) throws -> Built {
        switch uri.scheme {
        case "exec":
            return Built(provider: try ExecKEKProvider(uri: uri), remote: true)
        default:
            throw KEKURIError.unknownScheme(uri.scheme)
        }
    }
}
