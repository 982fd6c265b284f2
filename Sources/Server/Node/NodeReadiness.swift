/// Whether a node should receive traffic, as `GET /readyz` answers it (DESIGN §7).
public struct NodeReadiness: Sendable, Hashable {
    /// How far the applied index may trail the commit index while the node counts as ready.
    public static let maxApplyLagEntries: UInt64 = 1_000

    /// `nil` when ready; otherwise why not, for the 503 body.
    public var notReadyReason: String?

    public var isReady: Bool { notReadyReason == nil }

    /// Judges one reading of the node.
    public init(_ reading: NodeInfo.Reading) {
        if reading.halted {
            notReadyReason = "apply halted"
        } else if !reading.leaderContact || reading.leaderName == nil {
            notReadyReason = "no leader known"
        } else if reading.commitIndex > reading.appliedIndex + Self.maxApplyLagEntries {
            notReadyReason = "applied index \(reading.appliedIndex) trails the commit index \(reading.commitIndex)"
        } else {
            notReadyReason = nil
        }
    }

    /// The JSON body of the answer.
    public var json: String {
        guard let reason = notReadyReason else { return #"{"ready":true}"# + "\n" }
        return #"{"ready":false,"reason":""# + reason + #""}"# + "\n"
    }
}
