@testable import ControlPlane
import ElastickvAPI
import Encryption
import GRPCCore
import Testing

@testable import Server

/// The client-side decoders of `EncryptionAdmin` answers and how the CLI words encryption failures.
@Suite struct EncryptionWireTests {
    @Test func capabilityWithAnEpochAboveFFFFIsRefused() {
        var wire = Elastickv_V1_CapabilityResponse(FakeEncryptionControl.capable)
        wire.localEpoch = 0xFFFF
        #expect((try? EncryptionCapability(wire))?.localEpoch == 0xFFFF)
        wire.localEpoch = 0x1_0000
        #expect(throws: EncryptionWireError.localEpochOutOfRange(field: "local_epoch", value: 0x1_0000)) {
            try EncryptionCapability(wire)
        }
    }

    @Test func sidecarStateWithABadKeyIsRefused() {
        let valid = Elastickv_V1_SidecarStateResponse(.phaseTwo)
        var epoch = valid
        epoch.keys[1].localEpoch = 70_000
        #expect(throws: EncryptionWireError.localEpochOutOfRange(field: "keys[1].local_epoch", value: 70_000)) {
            try EncryptionStatus(epoch)
        }
        var zero = valid
        zero.keys[0].keyID = 0
        #expect(throws: EncryptionWireError.zeroKeyID(field: "keys[0].key_id")) { try EncryptionStatus(zero) }
        var purpose = valid
        purpose.keys[2].purpose = "kek"
        #expect(throws: EncryptionWireError.unknownPurpose(field: "keys[2].purpose", value: "kek")) {
            try EncryptionStatus(purpose)
        }
    }

    @Test func sidecarStateWithABadRegistryRowIsRefused() {
        let valid = Elastickv_V1_SidecarStateResponse(.phaseTwo)
        var last = valid
        last.registry[0].lastSeenLocalEpoch = 0x1_0000
        #expect(
            throws: EncryptionWireError.localEpochOutOfRange(
                field: "registry[0].last_seen_local_epoch", value: 0x1_0000)
        ) { try EncryptionStatus(last) }
        var order = valid
        order.registry[1].firstSeenLocalEpoch = 5
        #expect(throws: EncryptionWireError.epochsOutOfOrder(field: "registry[1]", first: 5, last: 1)) {
            try EncryptionStatus(order)
        }
        var node16 = valid
        node16.registry[0].node16 = 0x1_0000
        #expect(throws: EncryptionWireError.node16OutOfRange(field: "registry[0].node16", value: 0x1_0000)) {
            try EncryptionStatus(node16)
        }
    }

    @Test func encryptionFailuresPrintTheServerMessageOnce() {
        let notLeader = AdminFailure(
            encryption: RPCError(EncryptionControlError.notLeader(leaderAddress: "10.0.0.1:1")))
        #expect(notLeader.exitStatus == .temporaryFailure)
        #expect(
            notLeader.line
                == "error: FAILED_PRECONDITION: this node is not the leader; the leader is at 10.0.0.1:1 "
                + "(rerun with --addr 10.0.0.1:1)")
        let unknown = AdminFailure(encryption: RPCError(EncryptionControlError.notLeader(leaderAddress: nil)))
        #expect(unknown.exitStatus == .failure)
        #expect(unknown.line == "error: FAILED_PRECONDITION: this node is not the leader; no leader is known yet")
        let capability = AdminFailure(encryption: RPCError(EncryptionControlError.capabilityCheckFailed(["n3"])))
        #expect(capability.exitStatus == .failure)
        #expect(
            capability.line
                == "error: FAILED_PRECONDITION: ErrCapabilityCheckFailed: not every member is encryption-capable with this KEK: n3")
        let retry = AdminFailure(encryption: RPCError(EncryptionControlError.retryable("leadership is moving")))
        #expect(retry.exitStatus == .unavailable)
        #expect(retry.line == "error: UNAVAILABLE: retry: leadership is moving")
    }

    @Test func disableIsRefusedWithTheDumpAndReloadPath() {
        let refusal = AdminFailure.encryptionDisableRefused
        #expect(refusal.exitStatus == .failure)
        #expect(refusal.line.hasPrefix("error: encryption cannot be disabled"))
        for phrase in ["dump and reload", "redis-cli --scan", "GET", "HGETALL", "rather than DUMP"] {
            #expect(refusal.line.contains(phrase), "\(phrase)")
        }
    }
}
