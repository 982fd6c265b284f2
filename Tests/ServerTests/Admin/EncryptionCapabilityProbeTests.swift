@testable import ControlPlane
import ElastickvAPI
import GRPCCore
import Testing

@testable import Server

@Suite struct EncryptionCapabilityProbeTests {
    /// Generous: these tests check answers, not speed, and run beside multi-process suites on 2 cores.
    static let timeout: Duration = .seconds(30)

    @Test func aServingMemberAnswersWithItsCapability() async throws {
        let control = FakeEncryptionControl()
        try await AdminTestServer.run([EncryptionAdminService(control: control)]) { _, port in
            let probe = EncryptionCapabilityProbe()
            let answer = await probe.answer(at: "127.0.0.1:\(port)", timeout: Self.timeout)
            #expect(answer == .capability(FakeEncryptionControl.capable))
            let poller: any CapabilityPolling = probe
            #expect(
                await poller.capability(at: "127.0.0.1:\(port)", timeout: Self.timeout) == FakeEncryptionControl.capable
            )
        }
        #expect(control.calls == ["capability", "capability"])
    }

    /// A refused connection usually fails at once (UNAVAILABLE); on a loaded machine the deadline may come
    /// first. Either way the member is unreachable, and the answer comes within the timeout.
    @Test func aMemberThatRefusesConnectionsIsUnreachable() async throws {
        let started = ContinuousClock.now
        let answer = await EncryptionCapabilityProbe().answer(at: "127.0.0.1:1", timeout: .seconds(3))
        guard case .unreachable(let reason) = answer else {
            Issue.record("expected unreachable, got \(answer)")
            return
        }
        #expect(reason.hasPrefix("UNAVAILABLE") || reason.hasPrefix("DEADLINE_EXCEEDED"), "\(reason)")
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aMalformedAddressIsUnreachableWithoutNetworkActivity() async {
        let answer = await EncryptionCapabilityProbe().answer(at: "nowhere", timeout: Self.timeout)
        #expect(answer == .unreachable(AdminAddress.ParseError(input: "nowhere").description))
    }

    @Test func anAnswerWithAnEpochAboveFFFFCountsAsNoAnswer() async throws {
        try await AdminTestServer.run([OversizedEpochService()]) { _, port in
            let probe = EncryptionCapabilityProbe()
            let answer = await probe.answer(at: "127.0.0.1:\(port)", timeout: Self.timeout)
            #expect(
                answer
                    == .unreachable("invalid answer: local_epoch 65536 is above the maximum local epoch 65535 (0xFFFF)")
            )
            #expect(await probe.capability(at: "127.0.0.1:\(port)", timeout: Self.timeout) == nil)
        }
    }
}

/// A node from a broken build: its capability carries a local epoch no nonce can hold; nothing else is served.
private struct OversizedEpochService: Elastickv_V1_EncryptionAdmin.SimpleServiceProtocol {
    typealias Change = Elastickv_V1_EncryptionChangeResponse

    func getCapability(
        request: Elastickv_V1_GetCapabilityRequest, context: ServerContext
    ) async throws -> Elastickv_V1_CapabilityResponse {
        var response = Elastickv_V1_CapabilityResponse(FakeEncryptionControl.capable)
        response.localEpoch = 0x1_0000
        return response
    }

    func getSidecarState(
        request: Elastickv_V1_GetSidecarStateRequest, context: ServerContext
    ) async throws -> Elastickv_V1_SidecarStateResponse { throw Self.unimplemented }

    func bootstrapEncryption(
        request: Elastickv_V1_BootstrapEncryptionRequest, context: ServerContext
    ) async throws -> Change { throw Self.unimplemented }

    func rotateDEK(request: Elastickv_V1_RotateDEKRequest, context: ServerContext) async throws -> Change {
        throw Self.unimplemented
    }

    func setRotationPolicy(request: Elastickv_V1_SetRotationPolicyRequest, context: ServerContext) async throws
        -> Change { throw Self.unimplemented }

    func getKeyUsage(request: Elastickv_V1_KeyUsageRequest, context: ServerContext) async throws
        -> Elastickv_V1_KeyUsageResponse { throw Self.unimplemented }

    func startRewrite(request: Elastickv_V1_StartRewriteRequest, context: ServerContext) async throws -> Change {
        throw Self.unimplemented
    }

    func rewriteStatus(request: Elastickv_V1_RewriteStatusRequest, context: ServerContext) async throws
        -> Elastickv_V1_RewriteStatusResponse { throw Self.unimplemented }

    func rewrapDEKs(request: Elastickv_V1_RewrapDEKsRequest, context: ServerContext) async throws -> Change {
        throw Self.unimplemented
    }

    func retireDEK(request: Elastickv_V1_RetireDEKRequest, context: ServerContext) async throws -> Change {
        throw Self.unimplemented
    }

    func registerEncryptionWriter(
        request: Elastickv_V1_RegisterEncryptionWriterRequest, context: ServerContext
    ) async throws -> Change { throw Self.unimplemented }

    func enableStorageEnvelope(
        request: Elastickv_V1_EnableStorageEnvelopeRequest, context: ServerContext
    ) async throws -> Change { throw Self.unimplemented }

    func enableRaftEnvelope(
        request: Elastickv_V1_EnableRaftEnvelopeRequest, context: ServerContext
    ) async throws -> Change { throw Self.unimplemented }

    func resyncSidecar(request: Elastickv_V1_ResyncSidecarRequest, context: ServerContext) async throws -> Change {
        throw Self.unimplemented
    }

    static let unimplemented = RPCError(code: .unimplemented, message: "not served by this test node")
}
