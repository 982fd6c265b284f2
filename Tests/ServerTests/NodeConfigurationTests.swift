import Server
import Testing

@Suite struct NodeConfigurationTests {
    typealias Address = NodeConfiguration.Address

    @Test func parsesAddresses() throws {
        #expect(try Address(parsing: "127.0.0.1:6379", flag: "--redis-addr") == Address(host: "127.0.0.1", port: 6379))
        #expect(try Address(parsing: "[::1]:0", flag: "--redis-addr") == Address(host: "::1", port: 0))
        #expect(try Address(parsing: "[::1]:7", flag: "x").description == "[::1]:7")
        for bad in ["", "host", ":1", "h:", "h:99999", "h:-1", "h:x"] {
            #expect(throws: ConfigurationError.invalidAddress(flag: "--grpc-addr", value: bad)) {
                try Address(parsing: bad, flag: "--grpc-addr")
            }
        }
    }

    @Test func initialClusterDefaultsToThisNodeAlone() throws {
        let own = Address(host: "127.0.0.1", port: 50051)
        #expect(try NodeConfiguration.parseInitialCluster("", nodeName: "n1", grpcAddress: own)
            == [.init(name: "n1", address: own)])
    }

    @Test func parsesAndChecksInitialCluster() throws {
        let own = Address(host: "127.0.0.1", port: 1)
        let peers = try NodeConfiguration.parseInitialCluster("n1=127.0.0.1:1,n2=127.0.0.1:2", nodeName: "n2",
                                                              grpcAddress: own)
        #expect(peers.map(\.name) == ["n1", "n2"])
        #expect(peers[1].address.port == 2)
        #expect(throws: ConfigurationError.selfNotInInitialCluster("n3")) {
            try NodeConfiguration.parseInitialCluster("n1=h:1", nodeName: "n3", grpcAddress: own)
        }
        #expect(throws: ConfigurationError.duplicateMember("n1")) {
            try NodeConfiguration.parseInitialCluster("n1=h:1,n1=h:2", nodeName: "n1", grpcAddress: own)
        }
        #expect(throws: ConfigurationError.invalidInitialCluster("n2")) {
            try NodeConfiguration.parseInitialCluster("n1=h:1,n2", nodeName: "n1", grpcAddress: own)
        }
    }

    @Test func validatesCombinations() throws {
        let configuration = NodeConfiguration(nodeName: "a,b")
        #expect(throws: ConfigurationError.invalidNodeName("a,b")) { try configuration.validate() }
        let joining = try NodeConfiguration.parseInitialCluster("n1=h:1", nodeName: "n4", grpcAddress: .init(host: "h", port: 4),
                                                                joining: true)
        #expect(joining.map(\.name) == ["n1"])
    }

    @Test func tlsFlagsAreCheckedTogether() throws {
        func failure(_ change: (inout NodeConfiguration) -> Void) -> String? {
            var configuration = NodeConfiguration()
            change(&configuration)
            do { try configuration.validate() } catch { return error.description }
            return nil
        }
        let address = NodeConfiguration.Address(host: "127.0.0.1", port: 6390)
        #expect(failure { $0.redisTLSAddress = address }?.contains("--redis-tls-addr needs --tls-cert-file") == true)
        #expect(failure {
            $0.tlsCertificateFile = "c"
            $0.tlsKeyFile = "k"
        }?.contains("go together") == true, "gRPC mTLS needs the CA too")
        #expect(failure { $0.redisTLSOnly = true }?.contains("--redis-tls-only needs --redis-tls-addr") == true)
        var grpcOnly = NodeConfiguration()
        grpcOnly.tlsCertificateFile = "c"
        grpcOnly.tlsKeyFile = "k"
        grpcOnly.tlsCAFile = "ca"
        try grpcOnly.validate()
        #expect(grpcOnly.grpcUsesTLS && grpcOnly.redisTLS == nil)
        var good = grpcOnly
        good.redisTLSAddress = address
        good.redisTLSAuthClients = .no
        try good.validate()
        #expect(good.redisTLS == RedisTLSSettings(host: "127.0.0.1", port: 6390, certificateFile: "c", keyFile: "k",
                                                  caFile: "ca", authClients: .no))
    }
}
