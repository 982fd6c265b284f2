import Encryption
import KEKProviders

extension NodeKEKs {
    /// The providers that call a service, an HSM or a command.
    ///
    /// A `pkcs11:` provider loads its module and logs in here; a `kms-plugin:` provider asks the plugin's Status
    /// (a plugin that is down or unhealthy refuses the start with a clear error, since no KEK of it can be used).
    static func makeRemoteProvider(_ uri: KEKURI) throws -> Built {
        switch uri.scheme {
        case "exec":
            return Built(provider: try ExecKEKProvider(uri: uri), remote: true)
        case "pkcs11":
            return Built(provider: try PKCS11KEKProvider(uri: uri), remote: true)
        case "aws-kms":
            // The context binds every ciphertext to this use and this KEK: KMS refuses to decrypt it under
            // another context, and CloudTrail shows it with each call.
            let context = ["elastickv:purpose": "dek-wrap", "elastickv:kek": uri.withoutQuery]
            return Built(provider: try AWSKMSKEKProvider(uri: uri, encryptionContext: context), remote: true)
        case "kms-plugin":
            return Built(provider: try KMSPluginKEKProvider(uri: uri), remote: true)
        default:
            throw KEKURIError.unknownScheme(uri.scheme)
        }
    }
}
