@testable import ControlPlane
import Encryption
import Synchronization

@testable import Server

/// A scripted `EncryptionControl`: answers with a fixed capability and state, answers mutators with increasing
/// indexes or with a chosen failure, and records every call.
final class FakeEncryptionControl: EncryptionControl {
    struct State {
        var capability: EncryptionCapability
        var status: EncryptionStatus
        var failure: EncryptionControlError?
        var nextIndex: UInt64 = 200
        var calls: [String] = []
    }

    let state: Mutex<State>

    init(capability: EncryptionCapability = FakeEncryptionControl.capable, status: EncryptionStatus = .phaseTwo) {
        state = Mutex(State(capability: capability, status: status))
    }

    static let capable = EncryptionCapability(
        nodeName: "n1", fullNodeID: 0xCAFE_F00D_1234_5678, encryptionCapable: true,
        buildID: "elastickv 0.1.0 (envelope v1)", sidecarPresent: true, localEpoch: 3)

    var calls: [String] { state.withLock { $0.calls } }

    func fail(with failure: EncryptionControlError?) {
        state.withLock { $0.failure = failure }
    }

    func capability() async -> EncryptionCapability {
        state.withLock { state in
            state.calls.append("capability")
            return state.capability
        }
    }

    func encryptionState(node16: UInt16?) async throws(EncryptionControlError) -> EncryptionStatus {
        try state.withLock { state throws(EncryptionControlError) in
            state.calls.append("encryptionState \(node16.map(String.init) ?? "all")")
            if let failure = state.failure { throw failure }
            return state.status
        }
    }

    func bootstrap() async throws(EncryptionControlError) -> EncryptionChange { try record("bootstrap") }

    func enableStorageEnvelope() async throws(EncryptionControlError) -> EncryptionChange {
        try record("enableStorageEnvelope")
    }

    func enableRaftEnvelope() async throws(EncryptionControlError) -> EncryptionChange {
        try record("enableRaftEnvelope")
    }

    func rotateDEK(purpose: KeyPurpose) async throws(EncryptionControlError) -> EncryptionChange {
        try record("rotateDEK \(purpose.rawValue)")
    }

    func rewrapDEKs() async throws(EncryptionControlError) -> EncryptionChange { try record("rewrapDEKs") }

    func retireDEK(keyID: KeyID) async throws(EncryptionControlError) -> EncryptionChange {
        try record("retireDEK \(keyID)")
    }

    func registerWriters(_ registrations: [WriterRegistration]) async throws(EncryptionControlError)
        -> EncryptionChange
    {
        try record("registerWriters " + registrations.map(\.description).joined(separator: ", "))
    }

    func resyncSidecar() async throws(EncryptionControlError) -> EncryptionChange { try record("resyncSidecar") }

    func startRewrite(rowsPerSecond: UInt32?) async throws(EncryptionControlError) -> EncryptionChange {
        try record("startRewrite \(rowsPerSecond.map(String.init) ?? "-")")
    }

    func keyUsage() async throws(EncryptionControlError) -> KeyUsageReport {
        _ = try record("keyUsage")
        return KeyUsageReport(nodeName: "n1", snapshotIndex: 30, logFirstIndex: 31, logLastIndex: 40, keys: [
            .init(keyID: 7, purpose: .storage, isActive: false, storedVersions: 0, logEntries: 0, snapshotVersions: 3),
        ])
    }

    func rewriteStatus() async throws(EncryptionControlError) -> RewriteStatus {
        _ = try record("rewriteStatus")
        return RewriteStatus(state: .running, targetKeyID: 9, activeStorageKeyID: 9, rowsPerSecond: 500,
                             examinedRows: 1200, resealedRows: 800, totalRows: 5000, remainingRows: 3000,
                             startedIndex: 40, finishedIndex: 0)
    }

    func setRotationPolicy(rotateAfterSeconds: UInt64?, rotateAfterSeals: UInt64?, rewriteAfterRotate: Bool?) async
        throws(EncryptionControlError) -> EncryptionChange
    {
        try record("setRotationPolicy \(rotateAfterSeconds.map(String.init) ?? "-") \(rotateAfterSeals.map(String.init) ?? "-")"
            + (rewriteAfterRotate.map { " rewrite \($0)" } ?? ""))
    }

    private func record(_ call: String) throws(EncryptionControlError) -> EncryptionChange {
        let outcome: Result<EncryptionChange, EncryptionControlError> = state.withLock { state in
            state.calls.append(call)
            if let failure = state.failure { return .failure(failure) }
            state.nextIndex += 1
            return .success(EncryptionChange(index: state.nextIndex, summary: "\(call) done"))
        }
        return try outcome.get()
    }
}

extension EncryptionStatus {
    /// Three DEKs (an old storage key and the active storage and raft keys), both envelopes on, two writers.
    static let phaseTwo = EncryptionStatus(
        encryptionEnabled: true, raftAppliedIndex: 57, storageEnvelopeActive: true, raftEnvelopeCutoverIndex: 55,
        activeStorageKeyID: 305_419_896, activeRaftKeyID: 2_596_069_104,
        keys: [
            Key(
                keyID: 7, purpose: .storage, wrapped: Array(repeating: 0xA1, count: 40),
                created: "2025-01-02T03:04:05Z", localEpoch: 1),
            Key(
                keyID: 305_419_896, purpose: .storage, wrapped: Array(repeating: 0xB2, count: 40),
                created: "2025-03-01T12:00:00Z", localEpoch: 3, wrappedBy: ["0123456789abcdef", "aws-kms:alias/ekv"],
                sealCount: 1_000_003),
            Key(
                keyID: 2_596_069_104, purpose: .raft, wrapped: Array(repeating: 0xC3, count: 40),
                created: "2025-03-01T12:00:00Z", localEpoch: 3, sealCount: 42),
        ],
        registry: [
            RegistryRow(
                keyID: 305_419_896, node16: 0x5678,
                row: WriterRegistryRow(fullNodeID: 0xCAFE_F00D_1234_5678, firstSeenLocalEpoch: 2, lastSeenLocalEpoch: 3)
            ),
            RegistryRow(
                keyID: 2_596_069_104, node16: 0x0102,
                row: WriterRegistryRow(fullNodeID: 0x0A0B_0C0D_0E0F_0102, firstSeenLocalEpoch: 1, lastSeenLocalEpoch: 1)
            ),
        ],
        kekProviders: [
            KEKProviderHealth(kekID: "0123456789abcdef", scheme: "file", primary: true, state: .up),
            KEKProviderHealth(kekID: "aws-kms:alias/ekv", scheme: "aws-kms", primary: false, state: .circuitOpen,
                              consecutiveFailures: 5, lastError: "ErrKEKUnavailable: connection refused"),
        ],
        rotationPolicy: RotationPolicy(rotateAfterSeconds: 90 * 86_400, rotateAfterSeals: 0), memberCount: 3)

    /// A node with encryption enabled that has applied nothing yet.
    static let beforeBootstrap = EncryptionStatus(
        encryptionEnabled: true, raftAppliedIndex: 0, storageEnvelopeActive: false, raftEnvelopeCutoverIndex: nil,
        activeStorageKeyID: nil, activeRaftKeyID: nil, keys: [], registry: [])
}
