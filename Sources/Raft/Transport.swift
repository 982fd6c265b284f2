/// Carries messages between members; the real network and the simulated one both implement it.
///
/// Delivery is best effort: messages may be lost, duplicated, delayed or reordered, and the core tolerates
/// all of it. Implementations must not block the caller; the receiving side hands each message to its
/// member's ``RaftNode/step(_:)``.
public protocol RaftTransport: AnyObject {
    /// Queues `messages` (each names its recipient in ``Message/to``) for delivery.
    func send(_ messages: [Message])
}
