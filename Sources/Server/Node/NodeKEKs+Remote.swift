import Encryption

extension NodeKEKs {
    /// The providers that call a service or a command.
    static func makeRemoteProvider(_ uri: KEKURI) throws -> Built {
        throw KEKURIError.unknownScheme(uri.scheme)
    }
}
