import ControlPlane
import ElastickvAPI
import Encryption
import GRPCCore

/// The `elastickv.v1.EncryptionAdmin` gRPC service: capability, applied state and the encryption life-cycle
/// mutators, over the node's `EncryptionControl`.
///
/// A thin adapter: it decodes and validates the request (a local epoch or node16 above 0xFFFF, key id 0 or an
/// unknown purpose is `INVALID_ARGUMENT` and never reaches the node), calls the node and translates
/// `EncryptionControlError` into a gRPC status (see `RPCError.init(_:)` in `EncryptionControlError+RPCError.swift`).
/// Wrapped DEKs are the only key material it carries, and only in `GetSidecarState` answers.
public struct EncryptionAdminService: Elastickv_V1_EncryptionAdmin.SimpleServiceProtocol {
    private let control: any EncryptionControl
    /// Whether the mutators need the admin role (the node serves gRPC over mTLS); capability and state
    /// reads never do.
    private let requiresAdminRole: Bool

    /// Creates the service over the node's encryption operations.
    public init(control: any EncryptionControl, requiresAdminRole: Bool = false) {
        self.control = control
        self.requiresAdminRole = requiresAdminRole
    }

    /// Returns what this node can do; answers on any role.
    public func getCapability(
        request: Elastickv_V1_GetCapabilityRequest, context: ServerContext
    ) async throws -> Elastickv_V1_CapabilityResponse {
        Elastickv_V1_CapabilityResponse(await control.capability())
    }

    /// Returns the encryption state this node has applied, with the registry rows of the requested node16 (all
    /// rows when none is given).
    ///
    /// - Throws: `RPCError(.invalidArgument)` for a node16 above 0xFFFF or one set without `has_node16`.
    public func getSidecarState(
        request: Elastickv_V1_GetSidecarStateRequest, context: ServerContext
    ) async throws -> Elastickv_V1_SidecarStateResponse {
        let node16 = try Self.decoding { () throws(EncryptionWireError) in try EncryptionWire.node16Filter(request) }
        return try await Self.mapping { () async throws(EncryptionControlError) in
            Elastickv_V1_SidecarStateResponse(try await control.encryptionState(node16: node16))
        }
    }

    /// Draws the first storage and raft DEKs and registers every member.
    public func bootstrapEncryption(
        request: Elastickv_V1_BootstrapEncryptionRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(EncryptionControlError) in try await control.bootstrap() }
    }

    /// Makes a new DEK active for the requested purpose.
    ///
    /// - Throws: `RPCError(.invalidArgument)` when `purpose` is not `storage` or `raft`.
    public func rotateDEK(
        request: Elastickv_V1_RotateDEKRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let purpose = try Self.decoding { () throws(EncryptionWireError) in
            try EncryptionWire.purpose(request.purpose)
        }
        return try await Self.change { () async throws(EncryptionControlError) in
            try await control.rotateDEK(purpose: purpose)
        }
    }

    /// Re-wraps every unretired DEK under the leader's current KEK.
    public func rewrapDEKs(
        request: Elastickv_V1_RewrapDEKsRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(EncryptionControlError) in try await control.rewrapDEKs() }
    }

    /// Retires an inactive DEK that nothing can still need.
    ///
    /// - Throws: `RPCError(.invalidArgument)` for key id 0.
    public func retireDEK(
        request: Elastickv_V1_RetireDEKRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let keyID = try Self.decoding { () throws(EncryptionWireError) in
            try EncryptionWire.keyID(request.keyID, field: "key_id")
        }
        return try await Self.change { () async throws(EncryptionControlError) in
            try await control.retireDEK(keyID: keyID)
        }
    }

    /// Commits writer registrations.
    ///
    /// - Throws: `RPCError(.invalidArgument)` for an empty or oversized list, or a registration with key id 0,
    ///   full node id 0 or a local epoch above 0xFFFF; nothing is registered then.
    public func registerEncryptionWriter(
        request: Elastickv_V1_RegisterEncryptionWriterRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let registrations = try Self.decoding { () throws(EncryptionWireError) in
            try EncryptionWire.registrations(request)
        }
        return try await Self.change { () async throws(EncryptionControlError) in
            try await control.registerWriters(registrations)
        }
    }

    /// Bootstraps when no DEK is active, then turns the storage envelope on.
    public func enableStorageEnvelope(
        request: Elastickv_V1_EnableStorageEnvelopeRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(EncryptionControlError) in try await control.enableStorageEnvelope() }
    }

    /// Commits the raft-envelope cut-over.
    public func enableRaftEnvelope(
        request: Elastickv_V1_EnableRaftEnvelopeRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(EncryptionControlError) in try await control.enableRaftEnvelope() }
    }

    /// Rewrites this node's sidecar from the replicated state it has applied.
    public func resyncSidecar(
        request: Elastickv_V1_ResyncSidecarRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(EncryptionControlError) in try await control.resyncSidecar() }
    }

    /// Starts the rewrite of stored versions under the active storage DEK.
    ///
    /// - Throws: `RPCError(.invalidArgument)` for a purpose other than storage (raft entries are not rewritten:
    ///   the log lets go of old ones through snapshots, `cluster snapshot`).
    public func startRewrite(
        request: Elastickv_V1_StartRewriteRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        guard request.purpose.isEmpty || request.purpose == KeyPurpose.storage.rawValue else {
            throw RPCError(code: .invalidArgument, message: "purpose '\(request.purpose)' cannot be rewritten; only "
                + "storage holds stored versions (raft entries leave the log through snapshots: cluster snapshot)")
        }
        let rate = request.rowsPerSecond == 0 ? nil : request.rowsPerSecond
        return try await Self.change { () async throws(EncryptionControlError) in
            try await control.startRewrite(rowsPerSecond: rate)
        }
    }

    /// What on this node still needs each unretired DEK; answers on any role.
    public func getKeyUsage(
        request: Elastickv_V1_KeyUsageRequest, context: ServerContext
    ) async throws -> Elastickv_V1_KeyUsageResponse {
        try await Self.mapping { () async throws(EncryptionControlError) in
            Elastickv_V1_KeyUsageResponse(try await control.keyUsage())
        }
    }

    /// The rewrite as this node applied it; answers on any role.
    public func rewriteStatus(
        request: Elastickv_V1_RewriteStatusRequest, context: ServerContext
    ) async throws -> Elastickv_V1_RewriteStatusResponse {
        try await Self.mapping { () async throws(EncryptionControlError) in
            Elastickv_V1_RewriteStatusResponse(try await control.rewriteStatus())
        }
    }

    /// Replaces the automatic rotation policy; a bound the request leaves out keeps its value.
    ///
    /// - Throws: `RPCError(.invalidArgument)` for a bound above its maximum.
    public func setRotationPolicy(
        request: Elastickv_V1_SetRotationPolicyRequest, context: ServerContext
    ) async throws -> Elastickv_V1_EncryptionChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let seconds = request.hasRotateAfterSeconds ? request.rotateAfterSeconds : nil
        let seals = request.hasRotateAfterSeals ? request.rotateAfterSeals : nil
        let requested = RotationPolicy(rotateAfterSeconds: seconds ?? 0, rotateAfterSeals: seals ?? 0)
        guard requested.isValid else {
            throw RPCError(code: .invalidArgument,
                           message: EncryptionWireError.rotationPolicyOutOfRange(requested.description).description)
        }
        return try await Self.change { () async throws(EncryptionControlError) in
            try await control.setRotationPolicy(
                rotateAfterSeconds: seconds, rotateAfterSeals: seals,
                rewriteAfterRotate: request.hasRewriteAfterRotate ? request.rewriteAfterRotate : nil)
        }
    }

    /// Runs a request decoder, turning its refusal into `INVALID_ARGUMENT`.
    private static func decoding<Value>(
        _ decode: () throws(EncryptionWireError) -> Value
    ) throws(RPCError) -> Value {
        do throws(EncryptionWireError) {
            return try decode()
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
    }

    /// Runs one node operation, translating its refusal.
    private static func mapping<Value>(
        _ operation: () async throws(EncryptionControlError) -> Value
    ) async throws(RPCError) -> Value {
        do throws(EncryptionControlError) {
            return try await operation()
        } catch {
            throw RPCError(error)
        }
    }

    /// Runs one mutator and answers with its entry index and summary.
    private static func change(
        _ operation: () async throws(EncryptionControlError) -> EncryptionChange
    ) async throws(RPCError) -> Elastickv_V1_EncryptionChangeResponse {
        Elastickv_V1_EncryptionChangeResponse(try await mapping(operation))
    }
}
