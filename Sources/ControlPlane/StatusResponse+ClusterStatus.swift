import ElastickvAPI

extension Elastickv_V1_StatusResponse {
    /// The wire form of a node's cluster view: `leader` is the leader's node name, empty when unknown.
    public init(_ status: ClusterStatus) {
        self.init()
        nodeID = status.nodeName
        leader = status.leaderName ?? ""
        leaderAddr = status.leaderAddress ?? ""
        term = status.term
        commitIndex = status.commitIndex
        appliedIndex = status.appliedIndex
        members = status.members.map { member in
            var wire = Elastickv_V1_Member()
            wire.nodeID = member.name
            wire.raftID = member.raftID
            wire.addr = member.address
            wire.role = member.role.rawValue
            return wire
        }
    }
}
