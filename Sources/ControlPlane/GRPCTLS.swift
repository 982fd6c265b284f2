import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCertificateReloading
import X509

/// Mutual TLS on every gRPC connection (DESIGN §11): Raft traffic, forwarding, pub/sub, snapshots, capability
/// polls and `elastickv-admin`. Both ends present a certificate signed by the cluster's CA (`--tls-ca-file`),
/// which is what identifies a member or an admin: the CA is the cluster's own and issues nothing else. Host
/// names are not checked (members are usually dialled by IP address, which TLS's server name cannot carry; the
/// name sent is ``authority``). TLS 1.2 is the minimum (grpc-swift's NIO transport sets it).
public struct GRPCTLS: Sendable {
    public let certificateFile: String
    public let keyFile: String
    public let caFile: String
    /// Re-reads the certificate and key when their files change (a node's); nil: read once (the admin CLI).
    public let reloader: TimedCertificateReloader?

    public init(certificateFile: String, keyFile: String, caFile: String, reloader: TimedCertificateReloader? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.reloader = reloader
    }

    /// The server name (SNI) and HTTP/2 authority a TLS client sends.
    public static let authority = "elastickv"

    /// What a client connection uses.
    public var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(certificateChain: [.file(path: certificateFile, format: .pem)],
              privateKey: .file(path: keyFile, format: .pem)) {
            $0.trustRoots = .certificates([.file(path: caFile, format: .pem)])
            $0.serverCertificateVerification = .noHostnameVerification
            $0.certificateReloader = reloader
        }
    }

    /// What the node's gRPC server uses: a client without a certificate of the CA is refused at the handshake.
    public var serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(certificateChain: [.file(path: certificateFile, format: .pem)],
              privateKey: .file(path: keyFile, format: .pem)) {
            $0.trustRoots = .certificates([.file(path: caFile, format: .pem)])
            $0.clientCertificateVerification = .noHostnameVerification
            $0.certificateReloader = reloader
        }
    }
}

extension Optional where Wrapped == GRPCTLS {
    /// mTLS when configured, plaintext otherwise.
    public var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity { self?.clientSecurity ?? .plaintext }

    /// `config` with the authority a TLS client must send (an IP address cannot be a TLS server name).
    public func clientConfig(_ config: HTTP2ClientTransport.Posix.Config = .defaults) -> HTTP2ClientTransport.Posix.Config {
        guard self != nil else { return config }
        var config = config
        config.http2.authority = GRPCTLS.authority
        return config
    }
}

/// The admin role of DESIGN §11: a client certificate whose subject has an organizational unit (OU) `admin`.
/// Encryption and cluster mutators need it when the node serves gRPC over mTLS; read-only calls need only a
/// certificate of the cluster's CA, which the handshake already checked.
public enum AdminRole {
    /// The organizational unit that grants the role.
    public static let organizationalUnit = "admin"

    public static let denial = "this call changes the cluster and needs the admin role: a client certificate of the "
        + "cluster's CA whose subject has OU=\(organizationalUnit)"

    /// Whether the certificate carries the role.
    public static func holds(_ certificate: Certificate?) -> Bool {
        guard let certificate else { return false }
        for name in certificate.subject {
            for attribute in name where attribute.type == .RDNAttributeType.organizationalUnitName {
                if String(describing: attribute.value) == organizationalUnit { return true }
            }
        }
        return false
    }

    /// Refuses a mutator whose caller lacks the role, when `required` (the node serves mTLS).
    public static func check(_ context: ServerContext, required: Bool) throws(RPCError) {
        guard required else { return }
        let peer = (context.transportSpecific as? HTTP2ServerTransport.Posix.Context)?.peerCertificate
        guard holds(peer) else { throw RPCError(code: .permissionDenied, message: denial) }
    }
}
