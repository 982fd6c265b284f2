/// The role a member currently plays.
public enum RaftRole: Sendable, Hashable, CustomStringConvertible {
    case follower, preCandidate, candidate, leader

    public var description: String {
        switch self {
        case .follower: return "follower"
        case .preCandidate: return "pre-candidate"
        case .candidate: return "candidate"
        case .leader: return "leader"
        }
    }
}
