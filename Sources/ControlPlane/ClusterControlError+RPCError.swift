import GRPCCore

extension RPCError {
    /// The trailing-metadata key that carries the leader's address when a node refuses because it is not
    /// the leader, so a client can redirect without parsing the message.
    public static let leaderAddressMetadataKey = "elastickv-leader-addr"

    /// Translates a refused membership operation into the gRPC status a client can act on.
    ///
    /// `notLeader` with a known leader is `FAILED_PRECONDITION` naming the leader (also in the
    /// `elastickv-leader-addr` trailer); with no leader known it is `UNAVAILABLE`, because an election is in
    /// progress and retrying the same node is the right move. `changeInProgress` is `UNAVAILABLE` (retryable),
    /// `timeout` is `DEADLINE_EXCEEDED` (the change may still apply), `unknownMember` is `NOT_FOUND`,
    /// `alreadyMember` is `ALREADY_EXISTS` and `rejected` is `FAILED_PRECONDITION`.
    public init(_ error: ClusterControlError) {
        switch error {
        case .notLeader(let address?):
            self.init(
                code: .failedPrecondition, message: "this node is not the leader; the leader is at \(address)",
                metadata: [Self.leaderAddressMetadataKey: .string(address)])
        case .notLeader(nil):
            self.init(code: .unavailable, message: "this node is not the leader and no leader is known yet; retry")
        case .unknownMember:
            self.init(code: .notFound, message: error.description)
        case .alreadyMember:
            self.init(code: .alreadyExists, message: error.description)
        case .changeInProgress:
            self.init(code: .unavailable, message: error.description)
        case .timeout:
            self.init(code: .deadlineExceeded, message: error.description)
        case .rejected:
            self.init(code: .failedPrecondition, message: error.description)
        }
    }
}
