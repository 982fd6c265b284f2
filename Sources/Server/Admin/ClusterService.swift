import ControlPlane
import ElastickvAPI
import GRPCCore

/// The `elastickv.v1.Cluster` gRPC service: membership changes and status, over the node's `ClusterControl`.
///
/// A thin adapter: it validates the request, calls the node and translates `ClusterControlError` into a gRPC
/// status (see `RPCError.init(_:)` in `ClusterControlError+RPCError.swift`), so clients can tell "ask the
/// leader at this address" from "retry later" from "your request is wrong".
public struct ClusterService: Elastickv_V1_Cluster.SimpleServiceProtocol {
    private let control: any ClusterControl
    /// Whether membership changes need the admin role (the node serves gRPC over mTLS).
    private let requiresAdminRole: Bool

    /// Creates the service over the node's membership operations.
    public init(control: any ClusterControl, requiresAdminRole: Bool = false) {
        self.control = control
        self.requiresAdminRole = requiresAdminRole
    }

    /// Returns the node's view of the cluster.
    public func status(
        request: Elastickv_V1_StatusRequest, context: ServerContext
    ) async throws -> Elastickv_V1_StatusResponse {
        Elastickv_V1_StatusResponse(await control.status())
    }

    /// Adds a learner; both `node_id` and `addr` are required.
    ///
    /// - Throws: `RPCError` with `.invalidArgument` for a missing field, otherwise the mapped
    ///   `ClusterControlError`.
    public func addLearner(
        request: Elastickv_V1_MemberRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let name = try Self.requireNodeID(request)
        guard !request.addr.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "addr is required (host:port of the new member)")
        }
        return try await Self.change { () async throws(ClusterControlError) in
            try await control.addLearner(name: name, address: request.addr)
        }
    }

    /// Turns a learner into a voter.
    public func promote(
        request: Elastickv_V1_MemberRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let name = try Self.requireNodeID(request)
        return try await Self.change { () async throws(ClusterControlError) in
            try await control.promote(name: name)
        }
    }

    /// Removes a voter or a learner.
    public func remove(
        request: Elastickv_V1_MemberRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let name = try Self.requireNodeID(request)
        return try await Self.change { () async throws(ClusterControlError) in
            try await control.remove(name: name)
        }
    }

    /// Hands leadership to `node_id`; the response carries no index because no entry is written.
    public func transferLeader(
        request: Elastickv_V1_MemberRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        let name = try Self.requireNodeID(request)
        return try await Self.change { () async throws(ClusterControlError) in
            try await control.transferLeader(to: name)
            return 0
        }
    }

    /// Snapshots the answering node and compacts its whole log; the response's index is the snapshot's.
    public func snapshot(
        request: Elastickv_V1_SnapshotRequest, context: ServerContext
    ) async throws -> Elastickv_V1_ChangeResponse {
        try AdminRole.check(context, required: requiresAdminRole)
        return try await Self.change { () async throws(ClusterControlError) in try await control.snapshotAndCompact() }
    }

    private static func requireNodeID(_ request: Elastickv_V1_MemberRequest) throws(RPCError) -> String {
        guard !request.nodeID.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "node_id is required")
        }
        return request.nodeID
    }

    /// Runs one membership operation and answers with the index of its configuration entry.
    private static func change(
        _ operation: () async throws(ClusterControlError) -> UInt64
    ) async throws(RPCError) -> Elastickv_V1_ChangeResponse {
        do throws(ClusterControlError) {
            var response = Elastickv_V1_ChangeResponse()
            response.index = try await operation()
            return response
        } catch {
            throw RPCError(error)
        }
    }
}
