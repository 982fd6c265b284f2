import Encryption
import Storage

/// Everything a node needs to start, validated: the `elastickv` flags after parsing.
public struct NodeConfiguration: Sendable, Hashable {
    /// A `host:port` address.
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port` (IPv6 hosts in brackets: `[::1]:6379`).
        public init(parsing text: String, flag: String) throws(ConfigurationError) {
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else {
                throw .invalidAddress(flag: flag, value: text)
            }
            var host = String(text[text.startIndex..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw .invalidAddress(flag: flag, value: text)
            }
            self.init(host: host, port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// One member of the initial cluster.
    public struct Peer: Sendable, Hashable {
        public var name: String
        public var address: Address
        /// The Raft member id: `full_node_id` of the name.
        public var id: UInt64 { NodeIdentity.fullNodeID(of: name) }

        public init(name: String, address: Address) {
            self.name = name
            self.address = address
        }
    }

    public var nodeName: String
    public var dataDirectory: String
    public var grpcAddress: Address
    public var redisAddress: Address
    /// `nil` disables the metrics listener.
    public var metricsAddress: Address?
    /// The founding members (this node included); with ``join``, the existing members this node may hear
    /// from before the replicated directory reaches it (it does not bootstrap with them).
    public var initialCluster: [Peer]
    public var join: Bool
    public var encryptionEnabled: Bool
    public var kekFile: String?
    /// `--kek URI` values in order (DESIGN §3.4); `--kek-file PATH` counts as `file:PATH` before them.
    public var kekURIs: [String] = []
    /// How often remote KEK providers are probed for `encryption status` and metrics.
    public var kekProbeInterval: Duration = .seconds(15)
    /// The KEK the cluster's keys were wrapped with before the current one, during a KEK change.
    public var previousKEKFile: String?
    public var redisPassword: [UInt8]?
    public var maxValueBytes: Int
    public var leaseReads: Bool
    /// `--tls-cert-file`, `--tls-key-file`, `--tls-ca-file`.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var tlsCAFile: String?
    /// `--redis-tls-addr`: RESP over TLS with the certificate above.
    public var redisTLSAddress: Address?
    public var redisTLSAuthClients: RedisTLSSettings.ClientAuthentication = .yes
    /// `--redis-tls-only`: the plaintext Redis port is not served.
    public var redisTLSOnly = false
    /// `--compression`: whether this node compresses values before sealing them (storage envelope only).
    public var compression: ValueCompression = .zstd

    /// The Redis TLS listener's settings, when one is configured (after ``validate()``).
    public var redisTLS: RedisTLSSettings? {
        guard let address = redisTLSAddress, let certificate = tlsCertificateFile, let key = tlsKeyFile else { return nil }
        return RedisTLSSettings(host: address.host, port: address.port, certificateFile: certificate, keyFile: key,
                                caFile: tlsCAFile, authClients: redisTLSAuthClients)
    }

    /// The node's identity (DESIGN §3.1).
    public var identity: NodeIdentity { NodeIdentity(name: nodeName) }

    public init(
        nodeName: String = "n1", dataDirectory: String = "./elastickv-data",
        grpcAddress: Address = Address(host: "127.0.0.1", port: 50051),
        redisAddress: Address = Address(host: "127.0.0.1", port: 6379),
        metricsAddress: Address? = Address(host: "127.0.0.1", port: 9090), initialCluster: [Peer] = [],
        join: Bool = false, encryptionEnabled: Bool = false, kekFile: String? = nil, redisPassword: [UInt8]? = nil,
        maxValueBytes: Int = 64 << 20, leaseReads: Bool = false
    ) {
        self.nodeName = nodeName
        self.dataDirectory = dataDirectory
        self.grpcAddress = grpcAddress
        self.redisAddress = redisAddress
        self.metricsAddress = metricsAddress
        self.initialCluster = initialCluster
        self.join = join
        self.encryptionEnabled = encryptionEnabled
        self.kekFile = kekFile
        self.redisPassword = redisPassword
        self.maxValueBytes = maxValueBytes
        self.leaseReads = leaseReads
    }

    /// Parses `n1=host:port,n2=host:port,…`; empty text means a single-member cluster of this node.
    public static func parseInitialCluster(_ text: String, nodeName: String, grpcAddress: Address,
                                           joining: Bool = false) throws(ConfigurationError) -> [Peer]
    {
        guard !text.isEmpty else { return joining ? [] : [Peer(name: nodeName, address: grpcAddress)] }
        var peers: [Peer] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw .invalidInitialCluster(String(item)) }
            let peer = Peer(name: String(parts[0]),
                            address: try Address(parsing: String(parts[1]), flag: "--initial-cluster"))
            guard !peers.contains(where: { $0.name == peer.name }) else { throw .duplicateMember(peer.name) }
            guard !peers.contains(where: { $0.id == peer.id }) else { throw .nodeIDCollision(peer.name) }
            peers.append(peer)
        }
        guard joining || peers.contains(where: { $0.name == nodeName }) else {
            throw .selfNotInInitialCluster(nodeName)
        }
        return peers
    }

    /// Checks the combination of flags.
    public func validate() throws(ConfigurationError) {
        guard !nodeName.isEmpty, nodeName.utf8.count <= 255, !nodeName.contains(where: { $0 == "," || $0 == "=" })
        else { throw .invalidNodeName(nodeName) }
        guard !dataDirectory.isEmpty else { throw .emptyDataDirectory }
        guard maxValueBytes > 0, maxValueBytes <= 512 << 20 else { throw .invalidMaxValueBytes(maxValueBytes) }
        guard previousKEKFile == nil || kekFile != nil || !kekURIs.isEmpty else { throw .previousKEKWithoutKEK }
        guard kekURIs.count + (kekFile == nil ? 0 : 1) <= EntryLimits.maxKEKWraps else {
            throw .tooManyKEKs(EntryLimits.maxKEKWraps)
        }
        let tlsFiles = [tlsCertificateFile, tlsKeyFile, tlsCAFile]
        if tlsFiles.contains(where: { $0 != nil }), tlsFiles.contains(where: { $0 == nil }) {
            // The files turn on mTLS for gRPC (DESIGN §11), which needs all three.
            throw .tls("--tls-cert-file, --tls-key-file and --tls-ca-file go together: gRPC between members and "
                + "for elastickv-admin is then mutual TLS, which needs this node's certificate, its key and the CA")
        }
        if redisTLSAddress != nil, tlsCertificateFile == nil {
            throw .tls("--redis-tls-addr needs --tls-cert-file, --tls-key-file and --tls-ca-file")
        }
        if redisTLSOnly, redisTLSAddress == nil { throw .tls("--redis-tls-only needs --redis-tls-addr") }
    }

    /// Whether gRPC is served and dialled over mutual TLS.
    public var grpcUsesTLS: Bool { tlsCertificateFile != nil && tlsKeyFile != nil && tlsCAFile != nil }
}

/// A flag value or combination that cannot start a node; the description is the one line printed.
public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidAddress(flag: String, value: String)
    case invalidInitialCluster(String)
    case duplicateMember(String)
    case nodeIDCollision(String)
    case selfNotInInitialCluster(String)
    case invalidNodeName(String)
    case emptyDataDirectory
    case invalidMaxValueBytes(Int)
    case previousKEKWithoutKEK
    case tooManyKEKs(Int)
    case kekProbeInterval(Double)
    case tls(String)
    case invalidCompression(String)

    public var description: String {
        switch self {
        case .invalidAddress(let flag, let value): return "\(flag): '\(value)' is not host:port"
        case .previousKEKWithoutKEK:
            return "--previous-kek-file needs --kek-file or --kek (the new KEK); it only helps during a KEK change"
        case .kekProbeInterval(let seconds):
            return "--kek-probe-interval \(seconds) is out of range; give 0.1 to 86400 seconds"
        case .tooManyKEKs(let maximum):
            return "at most \(maximum) KEKs may be configured (--kek-file and --kek together)"
        case .invalidInitialCluster(let item):
            return "--initial-cluster: '\(item)' is not name=host:port (expected n1=host:port,n2=host:port,…)"
        case .duplicateMember(let name): return "--initial-cluster: member '\(name)' appears twice"
        case .nodeIDCollision(let name):
            return "--initial-cluster: member '\(name)' hashes to the same node id as another member; rename it"
        case .selfNotInInitialCluster(let name):
            return "--initial-cluster does not list this node ('\(name)'); add \(name)=<grpc-addr> or fix --node-id"
        case .invalidNodeName(let name):
            return "--node-id: '\(name)' must be 1–255 bytes without ',' or '='"
        case .tls(let reason): return reason
        case .invalidCompression(let value): return "--compression: '\(value)' is not zstd or none"
        case .emptyDataDirectory: return "--data-dir must not be empty"
        case .invalidMaxValueBytes(let value): return "--max-value-bytes: \(value) is not in 1…536870912"
        }
    }
}

extension NodeConfiguration {
    /// Every size bound of the write path, derived from ``maxValueBytes``.
    public var sizeLimits: SizeLimits { SizeLimits(maxValueBytes: maxValueBytes) }
}
