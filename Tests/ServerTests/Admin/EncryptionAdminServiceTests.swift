@testable import ControlPlane
import ElastickvAPI
import Encryption
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Testing

@testable import Server

@Suite struct EncryptionAdminServiceTests {
    typealias Admin = Elastickv_V1_EncryptionAdmin.Client<HTTP2ClientTransport.Posix>

    static let options = AdminTestServer.callOptions

    /// Runs `body` against an `EncryptionAdminService` over `control`, served on an ephemeral loopback port.
    static func withService(_ control: FakeEncryptionControl, _ body: (Admin) async throws -> Void) async throws {
        try await AdminTestServer.run([EncryptionAdminService(control: control)]) { client, _ in
            try await body(Admin(wrapping: client))
        }
    }

    static func registration(keyID: UInt32, fullNodeID: UInt64, epoch: UInt32) -> Elastickv_V1_WriterRegistration {
        var registration = Elastickv_V1_WriterRegistration()
        registration.keyID = keyID
        registration.fullNodeID = fullNodeID
        registration.localEpoch = epoch
        return registration
    }

    static func register(_ registrations: [Elastickv_V1_WriterRegistration])
        -> Elastickv_V1_RegisterEncryptionWriterRequest
    {
        var request = Elastickv_V1_RegisterEncryptionWriterRequest()
        request.registrations = registrations
        return request
    }

    static func rotate(_ purpose: String) -> Elastickv_V1_RotateDEKRequest {
        var request = Elastickv_V1_RotateDEKRequest()
        request.purpose = purpose
        return request
    }

    static func retire(_ keyID: UInt32) -> Elastickv_V1_RetireDEKRequest {
        var request = Elastickv_V1_RetireDEKRequest()
        request.keyID = keyID
        return request
    }

    static func sidecarState(node16: UInt32, has: Bool) -> Elastickv_V1_GetSidecarStateRequest {
        var request = Elastickv_V1_GetSidecarStateRequest()
        request.hasNode16_p = has
        request.node16 = node16
        return request
    }

    @Test func capabilityRoundTripsEveryField() async throws {
        try await Self.withService(FakeEncryptionControl()) { admin in
            let wire = try await admin.getCapability(.init(), options: Self.options)
            #expect(wire.nodeID == "n1")
            #expect(wire.fullNodeID == 0xCAFE_F00D_1234_5678)
            #expect(wire.encryptionCapable && wire.sidecarPresent)
            #expect(wire.buildID == "elastickv 0.1.0 (envelope v1)")
            #expect(wire.localEpoch == 3)
            #expect(try EncryptionCapability(wire) == FakeEncryptionControl.capable)
        }
    }

    @Test(arguments: [EncryptionStatus.phaseTwo, .beforeBootstrap])
    func sidecarStateRoundTripsAndAbsentValuesTravelAsZero(status: EncryptionStatus) async throws {
        try await Self.withService(FakeEncryptionControl(status: status)) { admin in
            let wire = try await admin.getSidecarState(.init(), options: Self.options)
            #expect(try EncryptionStatus(wire) == status)
            #expect(wire.raftEnvelopeCutoverIndex == status.raftEnvelopeCutoverIndex ?? 0)
            #expect(wire.activeStorageKeyID == status.activeStorageKeyID ?? 0)
            #expect(wire.activeRaftKeyID == status.activeRaftKeyID ?? 0)
            #expect(wire.keys.map(\.purpose) == status.keys.map(\.purpose.rawValue))
        }
    }

    @Test func sidecarStatePassesTheNode16Filter() async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            _ = try await admin.getSidecarState(Self.sidecarState(node16: 0, has: false), options: Self.options)
            _ = try await admin.getSidecarState(Self.sidecarState(node16: 0, has: true), options: Self.options)
            _ = try await admin.getSidecarState(Self.sidecarState(node16: 0xFFFF, has: true), options: Self.options)
        }
        #expect(control.calls == ["encryptionState all", "encryptionState 0", "encryptionState 65535"])
    }

    @Test func sidecarStateRefusesAnOutOfRangeOrUnflaggedNode16() async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let tooLarge = await ClusterServiceTests.rpcError {
                _ = try await admin.getSidecarState(
                    Self.sidecarState(node16: 0x1_0000, has: true), options: Self.options)
            }
            #expect(tooLarge?.code == .invalidArgument)
            #expect(tooLarge?.message == "node16 65536 is above the maximum node16 65535 (0xFFFF)")
            let unflagged = await ClusterServiceTests.rpcError {
                _ = try await admin.getSidecarState(Self.sidecarState(node16: 5, has: false), options: Self.options)
            }
            #expect(unflagged?.code == .invalidArgument)
        }
        #expect(control.calls.isEmpty)
    }

    @Test func mutatorsReachTheNodeAndReturnIndexAndSummary() async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let changes = [
                try await admin.bootstrapEncryption(.init(), options: Self.options),
                try await admin.rotateDEK(Self.rotate("raft"), options: Self.options),
                try await admin.rewrapDEKs(.init(), options: Self.options),
                try await admin.retireDEK(Self.retire(7), options: Self.options),
                try await admin.registerEncryptionWriter(
                    Self.register([Self.registration(keyID: 9, fullNodeID: 0xABCD, epoch: 0xFFFF)]),
                    options: Self.options),
                try await admin.enableStorageEnvelope(.init(), options: Self.options),
                try await admin.enableRaftEnvelope(.init(), options: Self.options),
                try await admin.resyncSidecar(.init(), options: Self.options),
                try await admin.setRotationPolicy(Self.policy(seconds: 3600, seals: nil), options: Self.options),
                try await admin.setRotationPolicy(Self.policy(seconds: nil, seals: 1 << 32, rewrite: true),
                                                  options: Self.options),
            ]
            #expect(changes.map(\.index) == Array(201...210))
            #expect(changes[1].summary == "rotateDEK raft done")
        }
        #expect(
            control.calls == [
                "bootstrap", "rotateDEK raft", "rewrapDEKs", "retireDEK 7",
                "registerWriters registration(dek 9, node 43981, epoch 65535)", "enableStorageEnvelope",
                "enableRaftEnvelope", "resyncSidecar", "setRotationPolicy 3600 -", "setRotationPolicy - 4294967296 rewrite true",
            ])
    }

    static func policy(seconds: UInt64?, seals: UInt64?, rewrite: Bool? = nil) -> Elastickv_V1_SetRotationPolicyRequest {
        var request = Elastickv_V1_SetRotationPolicyRequest()
        if let seconds { request.rotateAfterSeconds = seconds }
        if let seals { request.rotateAfterSeals = seals }
        if let rewrite { request.rewriteAfterRotate = rewrite }
        return request
    }

    @Test(arguments: [true, false])
    func aPolicyBoundAboveItsMaximumIsAnInvalidArgument(secondsTooLarge: Bool) async throws {
        let seconds: UInt64? = secondsTooLarge ? RotationPolicy.maximumRotateAfterSeconds + 1 : nil
        let seals: UInt64? = secondsTooLarge ? nil : RotationPolicy.maximumRotateAfterSeals + 1
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let error = await ClusterServiceTests.rpcError {
                _ = try await admin.setRotationPolicy(Self.policy(seconds: seconds, seals: seals), options: Self.options)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("out of range") == true)
        }
        #expect(control.calls.isEmpty)
    }

    @Test(arguments: ["", "Storage", "kek", "storage "])
    func rotateRefusesAnUnknownPurpose(purpose: String) async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let error = await ClusterServiceTests.rpcError {
                _ = try await admin.rotateDEK(Self.rotate(purpose), options: Self.options)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "purpose '\(purpose)' is not a key purpose; expected storage or raft")
        }
        #expect(control.calls.isEmpty)
    }

    @Test func retireRefusesKeyIDZero() async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let error = await ClusterServiceTests.rpcError {
                _ = try await admin.retireDEK(Self.retire(0), options: Self.options)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "key_id must name a key; 0 is never a key id")
        }
        #expect(control.calls.isEmpty)
    }

    @Test(arguments: [
        (
            [registration(keyID: 9, fullNodeID: 1, epoch: 0x1_0000)],
            "registrations[0].local_epoch 65536 is above the maximum local epoch 65535 (0xFFFF)"
        ),
        (
            [registration(keyID: 9, fullNodeID: 1, epoch: 1), registration(keyID: 9, fullNodeID: 2, epoch: .max)],
            "registrations[1].local_epoch 4294967295 is above the maximum local epoch 65535 (0xFFFF)"
        ),
        (
            [registration(keyID: 0, fullNodeID: 1, epoch: 1)],
            "registrations[0].key_id must name a key; 0 is never a key id"
        ),
        ([registration(keyID: 9, fullNodeID: 0, epoch: 1)], "registrations[0].full_node_id must not be 0"),
        ([], "registrations has 0 entries; expected 1 to 1024"),
    ])
    func registerRefusesInvalidRegistrationsAsAWhole(
        registrations: [Elastickv_V1_WriterRegistration], message: String
    ) async throws {
        let control = FakeEncryptionControl()
        try await Self.withService(control) { admin in
            let error = await ClusterServiceTests.rpcError {
                _ = try await admin.registerEncryptionWriter(Self.register(registrations), options: Self.options)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == message)
        }
        #expect(control.calls.isEmpty)
    }

    @Test func registerRefusesMoreRegistrationsThanOneEntryCarries() async throws {
        let control = FakeEncryptionControl()
        let registrations = Array(
            repeating: Self.registration(keyID: 9, fullNodeID: 1, epoch: 1),
            count: EntryLimits.maxRegistrationsPerEntry + 1)
        try await Self.withService(control) { admin in
            let error = await ClusterServiceTests.rpcError {
                _ = try await admin.registerEncryptionWriter(Self.register(registrations), options: Self.options)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message == "registrations has 1025 entries; expected 1 to 1024")
        }
        #expect(control.calls.isEmpty)
    }

    @Test func notLeaderIsFailedPreconditionNamingTheLeader() async throws {
        let control = FakeEncryptionControl()
        control.fail(with: .notLeader(leaderAddress: "10.1.2.3:50051"))
        try await Self.withService(control) { admin in
            for call in Self.everyMutator(admin) {
                let error = try #require(await ClusterServiceTests.rpcError(call))
                #expect(error.code == .failedPrecondition)
                #expect(
                    error.message
                        == "FAILED_PRECONDITION: this node is not the leader; the leader is at 10.1.2.3:50051")
                #expect(Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]) == ["10.1.2.3:50051"])
            }
        }
        #expect(control.calls.count == 7)
    }

    @Test(arguments: [
        (
            EncryptionControlError.notLeader(leaderAddress: nil), RPCError.Code.failedPrecondition,
            "no leader is known yet"
        ),
        (.encryptionNotEnabled, .failedPrecondition, "started without --encryption-enabled"),
        (.kekMissing, .failedPrecondition, "has no KEK"),
        (
            .capabilityCheckFailed(["n2 (unreachable)", "n3 (not capable)"]), .failedPrecondition,
            "ErrCapabilityCheckFailed: not every member is encryption-capable with this KEK: n2 (unreachable), n3 (not capable)"
        ),
        (
            .refused("DEK 7 is still referenced by 12 versions"), .failedPrecondition,
            "DEK 7 is still referenced by 12 versions"
        ),
        (.retryable("user proposals are held by the cut-over"), .unavailable, "retry: user proposals are held"),
        (.timeout, .deadlineExceeded, "timed out"),
        (.unavailable("apply halted"), .unavailable, "the node is unavailable: apply halted"),
    ])
    func refusalsMapToStatusCodes(failure: EncryptionControlError, code: RPCError.Code, message: String) async throws {
        let control = FakeEncryptionControl()
        control.fail(with: failure)
        try await Self.withService(control) { admin in
            let state = { _ = try await admin.getSidecarState(.init(), options: Self.options) }
            for call in Self.everyMutator(admin) + [state] {
                let error = try #require(await ClusterServiceTests.rpcError(call))
                #expect(error.code == code)
                #expect(error.message == failure.description)
                #expect(error.message.contains(message))
                #expect(Array(error.metadata[stringValues: RPCError.leaderAddressMetadataKey]).isEmpty)
            }
        }
    }

    /// One valid call of each mutating RPC.
    static func everyMutator(_ admin: Admin) -> [() async throws -> Void] {
        [
            { _ = try await admin.bootstrapEncryption(.init(), options: options) },
            { _ = try await admin.rotateDEK(rotate("storage"), options: options) },
            { _ = try await admin.rewrapDEKs(.init(), options: options) },
            { _ = try await admin.retireDEK(retire(7), options: options) },
            {
                _ = try await admin.registerEncryptionWriter(
                    register([registration(keyID: 9, fullNodeID: 1, epoch: 1)]), options: options)
            },
            { _ = try await admin.enableStorageEnvelope(.init(), options: options) },
            { _ = try await admin.enableRaftEnvelope(.init(), options: options) },
        ]
    }
}
