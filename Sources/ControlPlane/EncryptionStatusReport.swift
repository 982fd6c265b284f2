/// What `elastickv-admin encryption status` found: the encryption state one node applied and every member's
/// answer to a capability poll.
///
/// A plain value assembled by the CLI from three RPCs (`GetSidecarState` and `Cluster.Status` on the node asked,
/// `GetCapability` on each member) so that rendering it stays a pure function.
public struct EncryptionStatusReport: Sendable, Hashable {
    /// One member and how its capability poll went.
    public struct Node: Sendable, Hashable {
        /// The outcome of one capability poll.
        public enum Answer: Sendable, Hashable {
            /// The member answered.
            case capability(EncryptionCapability)
            /// The member could not be reached, or its answer could not be decoded; carries the reason.
            case unreachable(String)

            /// The capability when the member answered.
            public var capability: EncryptionCapability? {
                if case .capability(let capability) = self { return capability }
                return nil
            }
        }

        /// The member's node id, as the cluster configuration names it.
        public var nodeID: String
        /// The member's gRPC address, as the cluster configuration lists it.
        public var address: String
        public var answer: Answer

        public init(nodeID: String, address: String, answer: Answer) {
            self.nodeID = nodeID
            self.address = address
            self.answer = answer
        }

        /// The capability when the member answered.
        public var capability: EncryptionCapability? { answer.capability }
    }

    /// The address of the node whose applied state `state` is.
    public var stateAddress: String
    public var state: EncryptionStatus
    /// Every member with a known address, in configuration order.
    public var nodes: [Node]

    public init(stateAddress: String, state: EncryptionStatus, nodes: [Node]) {
        self.stateAddress = stateAddress
        self.state = state
        self.nodes = nodes
    }
}
